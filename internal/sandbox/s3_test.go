package sandbox

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// startS3 serves a sandbox and returns an S3 client of the real SDK pointed
// at it, path-style, without retries.
func startS3(t *testing.T, opts Options) (*Sandbox, *s3.Client) {
	t.Helper()
	sb, c := startSandbox(t, opts)
	cl := s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(sb.URL())
		o.UsePathStyle = true
		// Ranged reads carry no checksum (on AWS too); don't log each one.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return sb, cl
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func getAll(t *testing.T, cl *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := cl.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}

func TestLedgerS3ObjectsAndErrors(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{})

	_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("results"), Key: aws.String("a"), Body: strings.NewReader("x")})
	wantAPIError(t, err, "NoSuchBucket")
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("results")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("results")}); err != nil {
		t.Fatal(err)
	}
	lb, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "results" || lb.Buckets[0].CreationDate == nil {
		t.Fatalf("ListBuckets = %+v, %v", lb, err)
	}
	_, err = cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadBucket missing: want NotFound, got %v", err)
	}
	_, err = cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantAPIError(t, err, "InvalidBucketName")

	body := []byte("hello, shards\n")
	put, err := cl.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/octet-stream"), Metadata: map[string]string{"shard": "0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ETag) != `"`+fmt.Sprintf("%x", md5.Sum(body))+`"` {
		t.Errorf("ETag %s is not the quoted MD5 of the body", aws.ToString(put.ETag))
	}
	got, out := getAll(t, cl, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob")})
	if !bytes.Equal(got, body) || aws.ToString(out.ContentType) != "application/octet-stream" ||
		out.Metadata["shard"] != "0" || aws.ToString(out.ETag) != aws.ToString(put.ETag) || aws.ToInt64(out.ContentLength) != int64(len(body)) {
		t.Errorf("GetObject = %q, type %q, meta %v, etag %s, length %d", got, aws.ToString(out.ContentType), out.Metadata,
			aws.ToString(out.ETag), aws.ToInt64(out.ContentLength))
	}
	part, out := getAll(t, cl, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob"), Range: aws.String("bytes=7-12")})
	if string(part) != "shards" || aws.ToString(out.ContentRange) != fmt.Sprintf("bytes 7-12/%d", len(body)) {
		t.Errorf("ranged GetObject = %q, Content-Range %q", part, aws.ToString(out.ContentRange))
	}
	head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) || head.LastModified == nil {
		t.Fatalf("HeadObject = %+v, %v", head, err)
	}

	_, err = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("nope")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("GetObject missing key: want NoSuchKey, got %v", err)
	}
	_, err = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("missing"), Key: aws.String("a")})
	wantAPIError(t, err, "NoSuchBucket")
	_, err = cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("results"), Key: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Fatalf("HeadObject missing: want NotFound, got %v", err)
	}
	_, err = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob"), Range: aws.String("bytes=100-")})
	wantAPIError(t, err, "InvalidRange")

	if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("results"), Key: aws.String("run 1/shard-0-of-3.gob")}); err != nil {
		t.Fatal(err)
	}
	if n := sb.S3Bytes(); n != 0 {
		t.Errorf("after DeleteObject the sandbox holds %d bytes", n)
	}
	if sb.Calls()["s3:GetObject"] < 2 {
		t.Errorf("Calls() does not count S3 operations: %v", sb.Calls())
	}
}

// TestLedgerS3ListObjectsV2Pages lists keys and common prefixes page by page
// with the SDK's paginator, with and without a delimiter.
func TestLedgerS3ListObjectsV2Pages(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{})
	if err := sb.CreateBucket("lt-bucket"); err != nil {
		t.Fatal(err)
	}
	keys := []string{"run/a/1", "run/a/2", "run/b/1", "run/shard-0-of-2.gob", "run/shard-1-of-2.gob", "run/z", "runx", "zzz"}
	for _, k := range keys {
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lt-bucket"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(delim string, pageSize int32) (objects, prefixes []string, pages int) {
		t.Helper()
		in := &s3.ListObjectsV2Input{Bucket: aws.String("lt-bucket"), Prefix: aws.String("run/"), MaxKeys: aws.Int32(pageSize)}
		if delim != "" {
			in.Delimiter = aws.String(delim)
		}
		p := s3.NewListObjectsV2Paginator(cl, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if n := len(page.Contents) + len(page.CommonPrefixes); int32(n) != aws.ToInt32(page.KeyCount) || n > int(pageSize) {
				t.Errorf("page of %d entries says KeyCount %d (max %d)", n, aws.ToInt32(page.KeyCount), pageSize)
			}
			for _, o := range page.Contents {
				objects = append(objects, aws.ToString(o.Key))
				if aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || o.LastModified == nil || aws.ToString(o.ETag) == "" {
					t.Errorf("object %+v lacks size, date or ETag", o)
				}
			}
			for _, cp := range page.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
		}
		return objects, prefixes, pages
	}
	objects, prefixes, pages := list("", 2)
	if want := keys[:6]; fmt.Sprint(objects) != fmt.Sprint(want) || len(prefixes) != 0 || pages != 3 {
		t.Errorf("no delimiter, pages of 2: %v %v in %d pages, want %v in 3", objects, prefixes, pages, want)
	}
	objects, prefixes, pages = list("/", 1)
	if fmt.Sprint(objects) != "[run/shard-0-of-2.gob run/shard-1-of-2.gob run/z]" || fmt.Sprint(prefixes) != "[run/a/ run/b/]" || pages != 5 {
		t.Errorf("delimiter /, pages of 1: objects %v prefixes %v in %d pages", objects, prefixes, pages)
	}
	if out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lt-bucket"), MaxKeys: aws.Int32(0)}); err != nil || len(out.Contents) != 0 {
		t.Errorf("max-keys 0: %v, %v", out, err)
	}
	_, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("missing")})
	var nsb *s3types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Fatalf("ListObjectsV2 missing bucket: want NoSuchBucket, got %v", err)
	}
}

// TestLedgerS3Multipart streams an object of unknown length
// through an io.Pipe with the SDK's transfer manager: a multipart upload of
// three parts, read back whole and by part number.
func TestLedgerS3Multipart(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{})
	if err := sb.CreateBucket("big"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 12<<20)
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(data); off += 100_000 {
			if _, err := pw.Write(data[off:min(off+100_000, len(data))]); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	tm := transfermanager.New(cl, func(o *transfermanager.Options) {
		o.PartSizeBytes = 5 << 20
		o.MultipartUploadThreshold = 5 << 20
	})
	up, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("big"), Key: aws.String("r.gob"), Body: pr})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(up.ETag), `-3"`) {
		t.Errorf("ETag %s: want a multipart ETag of 3 parts", aws.ToString(up.ETag))
	}
	got, _ := getAll(t, cl, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("r.gob")})
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d uploaded", len(got), len(data))
	}
	p2, out := getAll(t, cl, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("r.gob"), PartNumber: aws.Int32(2)})
	if !bytes.Equal(p2, data[5<<20:10<<20]) || aws.ToInt32(out.PartsCount) != 3 {
		t.Errorf("part 2: %d bytes, parts count %d", len(p2), aws.ToInt32(out.PartsCount))
	}
	if n := sb.S3Bytes(); n != int64(len(data)) {
		t.Errorf("sandbox holds %d bytes after the upload, want %d", n, len(data))
	}

	// CompleteMultipartUpload refuses a first part under 5 MiB; Abort
	// releases the parts.
	cm, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("small")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for i := int32(1); i <= 2; i++ {
		p, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String("small"), UploadId: cm.UploadId,
			PartNumber: aws.Int32(i), Body: bytes.NewReader([]byte("tiny"))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(i), ETag: p.ETag})
	}
	_, err = cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("small"),
		UploadId: cm.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	wantAPIError(t, err, "EntityTooSmall")
	if _, err := cl.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("big"), Key: aws.String("small"), UploadId: cm.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("big"), Key: aws.String("small"), UploadId: cm.UploadId,
		PartNumber: aws.Int32(3), Body: bytes.NewReader([]byte("late"))})
	wantAPIError(t, err, "NoSuchUpload")
	if n := sb.S3Bytes(); n != int64(len(data)) {
		t.Errorf("sandbox holds %d bytes after the abort, want %d", n, len(data))
	}
}

// TestS3MemoryBound: writes past Options.S3MaxBytes fail, an overwrite
// counts only the difference.
func TestS3MemoryBound(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{S3MaxBytes: 1000})
	if err := sb.CreateBucket("bounded"); err != nil {
		t.Fatal(err)
	}
	put := func(key string, n int) error {
		_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bounded"), Key: aws.String(key), Body: bytes.NewReader(make([]byte, n))})
		return err
	}
	if err := put("a", 800); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	if err := put("b", 300); !errors.As(err, &ae) || ae.ErrorCode() != "SandboxStorageFull" {
		t.Fatalf("PutObject past the bound: want SandboxStorageFull, got %v", err)
	}
	if err := put("a", 950); err != nil {
		t.Fatalf("overwrite within the bound: %v", err)
	}
	if n := sb.S3Bytes(); n != 950 {
		t.Errorf("sandbox holds %d bytes, want 950", n)
	}
}

// TestLedgerS3UploadChecksums sends what SDKs may send that the Go SDK over plain
// http does not: an aws-chunked body with a trailing checksum, and a wrong
// checksum, which S3 refuses with BadDigest.
func TestLedgerS3UploadChecksums(t *testing.T) {
	sb, cl := startS3(t, Options{})
	if err := sb.CreateBucket("wire"); err != nil {
		t.Fatal(err)
	}
	send := func(body string, hdr map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, sb.URL()+"/wire/chunked", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// "hello world": crc32 0x0d4a1185 → DUoRhQ==.
	chunked := "6;chunk-signature=aa\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
	if code, body := send(chunked, map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "11", "X-Amz-Trailer": "x-amz-checksum-crc32"}); code != 200 {
		t.Fatalf("aws-chunked PutObject: %d %s", code, body)
	}
	got, _ := getAll(t, cl, &s3.GetObjectInput{Bucket: aws.String("wire"), Key: aws.String("chunked")})
	if string(got) != "hello world" {
		t.Errorf("aws-chunked body stored as %q", got)
	}
	bad := strings.Replace(chunked, "DUoRhQ==", "AAAAAA==", 1)
	code, body := send(bad, map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "11"})
	if code != 400 || !strings.Contains(body, "<Code>BadDigest</Code>") {
		t.Errorf("wrong trailing checksum: %d %s", code, body)
	}
	code, body = send("hello world", map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="})
	if code != 400 || !strings.Contains(body, "<Code>BadDigest</Code>") {
		t.Errorf("wrong checksum header: %d %s", code, body)
	}
}

// TestLedgerS3CreateBucketTwice: creating a bucket one already owns answers
// 200 in us-east-1 and BucketAlreadyOwnedByYou elsewhere.
func TestLedgerS3CreateBucketTwice(t *testing.T) {
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		_, cl := startS3(t, Options{Region: region})
		in := &s3.CreateBucketInput{Bucket: aws.String("twice")}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := cl.CreateBucket(ctx, in); err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		_, err := cl.CreateBucket(ctx, in)
		if region == "us-east-1" {
			if err != nil {
				t.Errorf("us-east-1: second CreateBucket: %v, want 200", err)
			}
			continue
		}
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			t.Errorf("%s: second CreateBucket: want BucketAlreadyOwnedByYou, got %v", region, err)
		}
	}
}

// TestLedgerS3DefaultChecksum: an object uploaded without a checksum gets a
// full-object CRC64NVME, which GetObject returns with checksum mode enabled
// and the SDK validates. "123456789" is CRC-64/NVME's check input
// (0xAE8B14860A799888).
func TestLedgerS3DefaultChecksum(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{})
	if err := sb.CreateBucket("sums"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("check"),
		Body: strings.NewReader("123456789"), ChecksumAlgorithm: ""}); err != nil {
		t.Fatal(err)
	}
	out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("check"), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if _, err := io.ReadAll(out.Body); err != nil {
		t.Fatalf("reading with checksum validation: %v", err)
	}
	want := base64.StdEncoding.EncodeToString([]byte{0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88})
	if got := aws.ToString(out.ChecksumCRC64NVME); got != want || out.ChecksumType != s3types.ChecksumTypeFullObject {
		t.Errorf("ChecksumCRC64NVME %q type %q, want %q FULL_OBJECT", got, out.ChecksumType, want)
	}
}

// FuzzS3Requests sends arbitrary S3-signed requests to the handler: no
// panic, and no 5xx but 501 (not served) and 507 (the memory bound).
func FuzzS3Requests(f *testing.F) {
	for _, s := range []struct{ method, target, rng, body string }{
		{"GET", "/fz-bucket?list-type=2&max-keys=0", "", ""},
		{"GET", "/fz-bucket?list-type=2&delimiter=/&prefix=a&continuation-token=cGE", "", ""},
		{"GET", "/fz-bucket?list-type=2&continuation-token=!!&encoding-type=url", "", ""},
		{"GET", "/fz-bucket/a/b", "bytes=-0", ""},
		{"GET", "/fz-bucket/a/b?partNumber=2", "bytes=5-1", ""},
		{"PUT", "/fz-bucket/k?partNumber=1&uploadId=zz", "", "x"},
		{"POST", "/fz-bucket/k?uploadId=zz", "", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"},
		{"PUT", "/fz-bucket/k", "", "5\r\nhello\r\n0\r\n\r\n"},
		{"DELETE", "/fz-bucket", "", ""},
		{"HEAD", "/", "", ""},
	} {
		f.Add(s.method, s.target, s.rng, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, rng, body string) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		sb := New(Options{S3MaxBytes: 1 << 16})
		if err := sb.CreateBucket("fz-bucket"); err != nil {
			t.Fatal(err)
		}
		put := httptest.NewRequest(http.MethodPut, "/fz-bucket/a/b", strings.NewReader("0123456789"))
		put.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
		sb.Handler().ServeHTTP(httptest.NewRecorder(), put)
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if strings.Contains(body, "\r\n0\r\n") {
			req.Header.Set("Content-Encoding", "aws-chunked")
		}
		rec := httptest.NewRecorder()
		sb.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented && rec.Code != http.StatusInsufficientStorage {
			t.Errorf("%s %s (Range %q): %d %s", method, target, rng, rec.Code, rec.Body.String())
		}
	})
}

// TestLedgerS3WrongRegion: a request signed for another region than the
// bucket's gets 301 with the bucket's region in x-amz-bucket-region.
func TestLedgerS3WrongRegion(t *testing.T) {
	ctx := context.Background()
	sb, cl := startS3(t, Options{Region: "eu-west-1"}) // the client signs for us-east-1
	if err := sb.CreateBucket("eu-bucket"); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"HeadBucket": func() error {
			_, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("eu-bucket")})
			return err
		},
		"PutObject": func() error {
			_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("eu-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
			return err
		},
	} {
		err := call()
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusMovedPermanently || re.Response.Header.Get("x-amz-bucket-region") != "eu-west-1" {
			t.Errorf("%s in the wrong region: %v", name, err)
		}
	}
	if _, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("eu-bucket")}, func(o *s3.Options) { o.Region = "eu-west-1" }); err != nil {
		t.Errorf("HeadBucket in the bucket's region: %v", err)
	}
}
