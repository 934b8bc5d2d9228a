package sandbox

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// awsChunkedReader decodes an aws-chunked body (SigV4 streaming upload, or
// an unsigned one with a trailing checksum): "<hex size>[;chunk-signature=…]
// CRLF data CRLF" chunks, a zero-size chunk, then trailer header lines and a
// blank line. Trailers go to trailer. Chunk signatures are not checked: the
// sandbox accepts any signature.
type awsChunkedReader struct {
	br      *bufio.Reader
	trailer http.Header
	left    int64 // bytes left in the current chunk
	done    bool
}

func newAWSChunkedReader(r io.Reader, trailer http.Header) *awsChunkedReader {
	return &awsChunkedReader{br: bufio.NewReader(r), trailer: trailer}
}

var errBadChunk = errors.New("malformed aws-chunked body")

func (c *awsChunkedReader) line() (string, error) {
	l, err := c.br.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

func (c *awsChunkedReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		l, err := c.line()
		if err != nil {
			return 0, err
		}
		sizeHex, _, _ := strings.Cut(l, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
		if err != nil || n < 0 {
			return 0, errBadChunk
		}
		if n == 0 {
			for {
				l, err := c.line()
				if err != nil {
					return 0, err
				}
				if l == "" {
					break
				}
				k, v, ok := strings.Cut(l, ":")
				if !ok {
					return 0, errBadChunk
				}
				c.trailer.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		if l, lerr := c.line(); lerr != nil || l != "" {
			return n, errBadChunk
		}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// crc64NVME is the CRC-64/NVME table (reflected polynomial; Go's crc64
// applies the initial and final inversion the algorithm specifies).
var crc64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

// crc64NVMEBase64 is S3's x-amz-checksum-crc64nvme of data.
func crc64NVMEBase64(data []byte) string {
	h := crc64.New(crc64NVME)
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// checkS3Digests verifies Content-MD5 and the x-amz-checksum-* values S3
// checks (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).
func checkS3Digests(data []byte, h http.Header) *s3Error {
	if v := h.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != 16 {
			return s3BadRequest("InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if got := md5ETag(data); strings.Trim(got, `"`) != hex.EncodeToString(want) {
			return s3BadRequest("BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	for _, c := range []struct {
		name string
		h    func() hash.Hash
	}{
		{"CRC32", func() hash.Hash { return crc32.NewIEEE() }},
		{"CRC32C", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
		{"CRC64NVME", func() hash.Hash { return crc64.New(crc64NVME) }},
		{"SHA1", sha1.New},
		{"SHA256", sha256.New},
	} {
		v := h.Get("X-Amz-Checksum-" + c.name)
		if v == "" {
			continue
		}
		hh := c.h()
		hh.Write(data)
		if base64.StdEncoding.EncodeToString(hh.Sum(nil)) != v {
			return s3BadRequest("BadDigest", "The %s you specified did not match the calculated checksum.", c.name)
		}
	}
	return nil
}
