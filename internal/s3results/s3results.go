// Package s3results keeps load-test results in Amazon S3: each generator
// (shard) streams its vegeta gob results into one object under a location
// s3://bucket/prefix/, and the merge lists and reads them back.
//
//	cl := awsapi.NewS3Client(cfg, endpoints.S3)
//	w, err := s3results.Create(ctx, cl, "s3://lt/run-42/", "shard-0-of-3.gob")
//	… write results to w …
//	err = w.Close() // completes the upload; w.Abort(cause) discards it
//
//	uris, err := s3results.List(ctx, cl, "s3://lt/run-42/")
//	r, err := s3results.Open(ctx, cl, uris[0])
//
// Create streams through an io.Pipe into the SDK's transfer manager
// (multipart upload in parts of PartSize), so a shard holds at most about
// (Concurrency+1) × PartSize bytes of results in memory however long it runs;
// an object may reach 10,000 × PartSize (78 GiB). Use the package for
// s3:// locations; plain files need nothing from it.
package s3results

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Scheme starts every location this package handles.
const Scheme = "s3://"

// PartSize is the size of the parts of an upload: the transfer manager's
// default, above S3's 5 MiB minimum.
const PartSize = 8 << 20

// Concurrency is how many parts of one object are uploaded at once.
const Concurrency = 2

// IsURI reports whether s names an S3 location (s3://…) rather than a file.
func IsURI(s string) bool { return strings.HasPrefix(s, Scheme) }

// Location is a bucket and a key prefix: "" or ending in "/".
type Location struct {
	Bucket string
	Prefix string
}

// String is the location as s3://bucket/prefix/.
func (l Location) String() string { return Scheme + l.Bucket + "/" + l.Prefix }

// Object is the location of the object called name.
func (l Location) Object(name string) Object {
	return Object{Bucket: l.Bucket, Key: l.Prefix + name}
}

// Object is one S3 object.
type Object struct {
	Bucket string
	Key    string
}

// String is the object as s3://bucket/key.
func (o Object) String() string { return Scheme + o.Bucket + "/" + o.Key }

// URIError reports an s3:// location that cannot be used.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string { return fmt.Sprintf("%q: %s", e.URI, e.Reason) }

// ParseLocation parses s3://bucket/prefix/. A prefix without a trailing
// slash gets one: s3://lt/run-42 is the folder run-42/.
func ParseLocation(uri string) (Location, error) {
	bucket, prefix, err := split(uri)
	if err != nil {
		return Location{}, err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// ParseObject parses s3://bucket/key; the key must not be empty or end
// in "/".
func ParseObject(uri string) (Object, error) {
	bucket, key, err := split(uri)
	if err != nil {
		return Object{}, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return Object{}, &URIError{URI: uri, Reason: "names a folder, not an object (want s3://bucket/key)"}
	}
	return Object{Bucket: bucket, Key: key}, nil
}

func split(uri string) (bucket, rest string, err error) {
	if !IsURI(uri) {
		return "", "", &URIError{URI: uri, Reason: "not an s3:// location (want s3://bucket/prefix/)"}
	}
	bucket, rest, _ = strings.Cut(strings.TrimPrefix(uri, Scheme), "/")
	if bucket == "" {
		return "", "", &URIError{URI: uri, Reason: "no bucket (want s3://bucket/prefix/)"}
	}
	if strings.ContainsAny(bucket, " ?#") || strings.ToLower(bucket) != bucket {
		return "", "", &URIError{URI: uri, Reason: "bucket names are lowercase letters, digits, dots and hyphens"}
	}
	return bucket, rest, nil
}

// Client is what the package calls: an *s3.Client does.
type Client interface {
	transfermanager.S3APIClient
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// NoSuchBucketError reports a bucket that does not exist.
type NoSuchBucketError struct {
	Bucket string
	Err    error
}

func (e *NoSuchBucketError) Error() string {
	return fmt.Sprintf("bucket %s does not exist", e.Bucket)
}

func (e *NoSuchBucketError) Unwrap() error { return e.Err }

// NoSuchObjectError reports an object that does not exist.
type NoSuchObjectError struct {
	Object Object
	Err    error
}

func (e *NoSuchObjectError) Error() string {
	return fmt.Sprintf("%s does not exist", e.Object)
}

func (e *NoSuchObjectError) Unwrap() error { return e.Err }

// Writer streams one object to S3. Write buffers; Close completes the
// upload and reports its outcome; Abort discards it. It is not safe for
// concurrent use.
type Writer struct {
	Object Object

	buf  *bufio.Writer
	pw   *io.PipeWriter
	done chan error

	once sync.Once
	err  error
}

// Create starts streaming the object name under the location uri
// (s3://bucket/prefix/). It checks the bucket first (HeadBucket), so a
// missing bucket is reported before a long run rather than after; a caller
// without s3:ListBucket (HeadBucket answers 403) goes ahead. The upload
// runs with ctx: give it a context that outlives an interrupted run when
// partial results are to be kept.
func Create(ctx context.Context, cl Client, uri, name string) (*Writer, error) {
	loc, err := ParseLocation(uri)
	if err != nil {
		return nil, err
	}
	if name == "" || strings.HasSuffix(name, "/") {
		return nil, &URIError{URI: uri + name, Reason: "no object name"}
	}
	obj := loc.Object(name)
	if _, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(obj.Bucket)}); err != nil {
		switch status(err) {
		case http.StatusMovedPermanently:
			region := bucketRegion(err)
			if region == "" {
				return nil, fmt.Errorf("check bucket %s: %w", obj.Bucket, err)
			}
			// The bucket is in another region than the configuration's
			// (whose API calls stay there): address it in its own.
			cl = regional{Client: cl, region: region}
		case http.StatusNotFound:
			return nil, &NoSuchBucketError{Bucket: obj.Bucket, Err: err}
		case http.StatusForbidden:
			// Allowed to write but not to list: find out at the upload.
		default:
			return nil, fmt.Errorf("check bucket %s: %w", obj.Bucket, err)
		}
	}
	tm := transfermanager.New(cl, func(o *transfermanager.Options) {
		o.PartSizeBytes = PartSize
		o.MultipartUploadThreshold = PartSize
		o.Concurrency = Concurrency
	})
	pr, pw := io.Pipe()
	w := &Writer{Object: obj, buf: bufio.NewWriterSize(pw, 256<<10), pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key), Body: pr,
			ContentType: aws.String("application/octet-stream"),
		})
		// Writes after a failed upload must fail, not block.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(io.ErrClosedPipe)
		}
		w.done <- err
	}()
	return w, nil
}

// Write buffers p for the upload; it fails once the upload has failed.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if err != nil {
		return n, fmt.Errorf("upload %s: %w", w.Object, err)
	}
	return n, nil
}

// Close sends what is buffered, completes the upload and returns its
// error. Later calls return the same.
func (w *Writer) Close() error {
	w.once.Do(func() {
		if err := w.buf.Flush(); err != nil {
			w.pw.CloseWithError(err)
		} else {
			_ = w.pw.Close()
		}
		if err := <-w.done; err != nil {
			w.err = fmt.Errorf("upload %s: %w", w.Object, err)
		}
	})
	return w.err
}

// Abort stops the upload without creating the object (the transfer
// manager aborts a multipart upload it started) and waits for it.
func (w *Writer) Abort(cause error) {
	if cause == nil {
		cause = errors.New("aborted")
	}
	w.once.Do(func() {
		w.pw.CloseWithError(cause)
		<-w.done
		w.err = fmt.Errorf("upload %s: %w", w.Object, cause)
	})
}

// List returns the objects directly under the location uri, as
// s3://bucket/key in S3's listing order (UTF-8 binary); objects in deeper
// "folders" are left out.
func List(ctx context.Context, cl s3.ListObjectsV2APIClient, uri string) ([]string, error) {
	loc, err := ParseLocation(uri)
	if err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Delimiter: aws.String("/")}
	if loc.Prefix != "" {
		in.Prefix = aws.String(loc.Prefix)
	}
	var out []string
	var inRegion []func(*s3.Options)
	p := s3.NewListObjectsV2Paginator(cl, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, inRegion...)
		if r := bucketRegion(err); r != "" && inRegion == nil {
			inRegion = []func(*s3.Options){withRegion(r)}
			page, err = p.NextPage(ctx, inRegion...)
		}
		if err != nil {
			if isCode(err, "NoSuchBucket") {
				return nil, &NoSuchBucketError{Bucket: loc.Bucket, Err: err}
			}
			return nil, fmt.Errorf("list %s: %w", loc, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); k != loc.Prefix {
				out = append(out, Object{Bucket: loc.Bucket, Key: k}.String())
			}
		}
	}
	return out, nil
}

// Getter is what Open calls: an *s3.Client does.
type Getter interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Open reads the object uri (s3://bucket/key) as a stream, its checksum
// validated by the SDK when S3 returns one (objects read whole do).
func Open(ctx context.Context, cl Getter, uri string) (io.ReadCloser, error) {
	obj, err := ParseObject(uri)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key), ChecksumMode: s3types.ChecksumModeEnabled}
	out, err := cl.GetObject(ctx, in)
	if r := bucketRegion(err); r != "" {
		out, err = cl.GetObject(ctx, in, withRegion(r))
	}
	if err != nil {
		switch {
		case isCode(err, "NoSuchKey"):
			return nil, &NoSuchObjectError{Object: obj, Err: err}
		case isCode(err, "NoSuchBucket"):
			return nil, &NoSuchBucketError{Bucket: obj.Bucket, Err: err}
		}
		return nil, fmt.Errorf("read %s: %w", obj, err)
	}
	return out.Body, nil
}

// bucketRegion is the bucket's region S3 names when a request went to
// another (301 with x-amz-bucket-region), or "".
func bucketRegion(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusMovedPermanently && re.Response != nil {
		return re.Response.Header.Get("x-amz-bucket-region")
	}
	return ""
}

func withRegion(region string) func(*s3.Options) {
	return func(o *s3.Options) { o.Region = region }
}

// regional sends every call to one region.
type regional struct {
	Client
	region string
}

func (r regional) opts(o []func(*s3.Options)) []func(*s3.Options) {
	return append(o[:len(o):len(o)], withRegion(r.region))
}

func (r regional) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return r.Client.PutObject(ctx, in, r.opts(o)...)
}

func (r regional) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return r.Client.UploadPart(ctx, in, r.opts(o)...)
}

func (r regional) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return r.Client.CreateMultipartUpload(ctx, in, r.opts(o)...)
}

func (r regional) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return r.Client.CompleteMultipartUpload(ctx, in, r.opts(o)...)
}

func (r regional) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return r.Client.AbortMultipartUpload(ctx, in, r.opts(o)...)
}

func (r regional) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return r.Client.GetObject(ctx, in, r.opts(o)...)
}

func (r regional) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return r.Client.HeadObject(ctx, in, r.opts(o)...)
}

func (r regional) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return r.Client.ListObjectsV2(ctx, in, r.opts(o)...)
}

func (r regional) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, o ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	return r.Client.HeadBucket(ctx, in, r.opts(o)...)
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
