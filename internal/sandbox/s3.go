package sandbox

// S3 in the sandbox: the path-style subset of Amazon S3's REST-XML API that
// apictl's --results s3://… and 'loadtest merge s3://…' use, and that the
// SDK's transfer manager and 'aws s3 cp|ls|mb|rm' call: ListBuckets,
// CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, PutObject,
// GetObject (Range, partNumber), HeadObject, DeleteObject, ListObjectsV2 and
// the multipart upload (CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload).
//
// A request is S3's when its SigV4 credential scope names the service s3
// (Authorization header or presigned X-Amz-Credential); the path is
// /{bucket}/{key} (path-style; virtual-hosted-style is not served). Buckets
// exist only after CreateBucket (as on AWS: 'aws s3 mb s3://b'), or
// Sandbox.CreateBucket. Objects live in memory, bounded by
// Options.S3MaxBytes (objects plus unfinished multipart parts); a write past
// the bound gets 507 SandboxStorageFull. Errors have S3's XML shape
// (<Error><Code>NoSuchKey</Code>…). docs/aws-behaviour.md "S3 (sandbox)"
// lists the behaviours relied on and their sources.

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultS3MaxBytes is the default bound of the bytes the S3 emulator holds.
const DefaultS3MaxBytes int64 = 1 << 30

// s3MinPartSize is S3's minimum size of every part but the last of a
// multipart upload (5 MiB).
const s3MinPartSize = 5 << 20

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

type s3Store struct {
	mu      sync.Mutex
	buckets map[string]*s3Bucket
	uploads map[string]*s3Upload // by upload id
	bytes   int64                // object and part bytes held
}

type s3Bucket struct {
	name    string
	region  string
	created time.Time
	objects map[string]*s3Object
}

type s3Object struct {
	data        []byte
	etag        string // quoted, as in the ETag header
	modified    time.Time
	contentType string
	meta        http.Header // x-amz-meta-* as received
	partEnds    []int64     // end offsets of the parts of a multipart object
	crc64       string      // full-object CRC64NVME, base64
}

type s3Upload struct {
	bucket, key string
	contentType string
	meta        http.Header
	parts       map[int]*s3Part
}

type s3Part struct {
	data []byte
	etag string
}

func (o *s3Object) size() int64 { return int64(len(o.data)) }
func (p *s3Part) size() int64   { return int64(len(p.data)) }

func newS3Store() *s3Store {
	return &s3Store{buckets: map[string]*s3Bucket{}, uploads: map[string]*s3Upload{}}
}

// s3Error is an S3 error: status and <Error><Code/><Message/>…</Error>.
type s3Error struct {
	Status   int
	Code     string
	Message  string
	Resource string // the bucket or key, reported as <BucketName> or <Key>
	isKey    bool
	Region   string // the bucket's, on a 301: x-amz-bucket-region
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func noSuchBucket(b string) *s3Error {
	return &s3Error{Status: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist", Resource: b}
}

func noSuchKey(k string) *s3Error {
	return &s3Error{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist.", Resource: k, isKey: true}
}

func noSuchUpload(id string) *s3Error {
	return &s3Error{Status: 404, Code: "NoSuchUpload", Message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
}

func s3BadRequest(code, format string, a ...any) *s3Error {
	return &s3Error{Status: 400, Code: code, Message: fmt.Sprintf(format, a...)}
}

// isS3Request reports whether r is signed for the service s3.
func isS3Request(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Authorization"), "/s3/aws4_request") {
		return true
	}
	return strings.Contains(r.URL.RawQuery, "X-Amz-Credential=") &&
		strings.Contains(r.URL.Query().Get("X-Amz-Credential"), "/s3/aws4_request")
}

// CreateBucket creates an S3 bucket in the sandbox (what 'aws s3 mb' does);
// creating one that exists is a no-op.
func (s *Sandbox) CreateBucket(name string) error {
	if e := validBucketName(name); e != nil {
		return e
	}
	st := s.s3
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.buckets[name]; !ok {
		st.buckets[name] = &s3Bucket{name: name, region: s.opts.Region, created: s.opts.Now().UTC(), objects: map[string]*s3Object{}}
	}
	return nil
}

// S3Bytes is the number of bytes the S3 emulator holds: objects plus parts of
// unfinished multipart uploads.
func (s *Sandbox) S3Bytes() int64 {
	s.s3.mu.Lock()
	defer s.s3.mu.Unlock()
	return s.s3.bytes
}

func (s *Sandbox) bucketRegion(name string) string {
	s.s3.mu.Lock()
	defer s.s3.mu.Unlock()
	if b, ok := s.s3.buckets[name]; ok {
		return b.region
	}
	return s.opts.Region
}

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func validBucketName(name string) *s3Error {
	if !bucketNameRE.MatchString(name) || strings.Contains(name, "..") {
		return &s3Error{Status: 400, Code: "InvalidBucketName", Message: "The specified bucket is not valid.", Resource: name}
	}
	return nil
}

// s3Op names the S3 operation of r, as AWS does ("PutObject").
func s3Op(r *http.Request, bucket, key string) string {
	q := r.URL.Query()
	switch {
	case bucket == "":
		return "ListBuckets"
	case key == "":
		switch r.Method {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodGet:
			if q.Has("location") {
				return "GetBucketLocation"
			}
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
	default:
		switch r.Method {
		case http.MethodPut:
			if q.Has("uploadId") {
				return "UploadPart"
			}
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodDelete:
			if q.Has("uploadId") {
				return "AbortMultipartUpload"
			}
			return "DeleteObject"
		case http.MethodPost:
			if q.Has("uploads") {
				return "CreateMultipartUpload"
			}
			if q.Has("uploadId") {
				return "CompleteMultipartUpload"
			}
		}
	}
	return "Unknown"
}

func (s *Sandbox) serveS3(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	op := s3Op(r, bucket, key)
	callName := "s3:" + op
	if e := s.countCall(callName); e != nil {
		s.logCall(callName, e.Status, e.Type)
		writeS3Error(w, r, &s3Error{Status: e.Status, Code: e.Type, Message: e.Message})
		return
	}
	if err := s.s3CheckRegion(r, op, bucket); err != nil {
		s.logCall(callName, err.Status, err.Code)
		writeS3Error(w, r, err)
		return
	}
	var err *s3Error
	switch op {
	case "ListBuckets":
		err = s.s3ListBuckets(w)
	case "CreateBucket":
		err = s.s3CreateBucket(w, r, bucket)
	case "HeadBucket":
		err = s.s3HeadBucket(w, bucket)
	case "DeleteBucket":
		err = s.s3DeleteBucket(w, bucket)
	case "GetBucketLocation":
		err = s.s3GetBucketLocation(w, bucket)
	case "ListObjectsV2":
		err = s.s3ListObjectsV2(w, r, bucket)
	case "PutObject":
		err = s.s3PutObject(w, r, bucket, key)
	case "GetObject", "HeadObject":
		err = s.s3GetObject(w, r, bucket, key)
	case "DeleteObject":
		err = s.s3DeleteObject(w, bucket, key)
	case "CreateMultipartUpload":
		err = s.s3CreateMultipartUpload(w, r, bucket, key)
	case "UploadPart":
		err = s.s3UploadPart(w, r, bucket, key)
	case "CompleteMultipartUpload":
		err = s.s3CompleteMultipartUpload(w, r, bucket, key)
	case "AbortMultipartUpload":
		err = s.s3AbortMultipartUpload(w, r, bucket, key)
	default:
		err = &s3Error{Status: http.StatusNotImplemented, Code: "NotImplemented",
			Message: "A header or query you provided implies functionality that is not implemented (" + op + " in the apictl sandbox)."}
	}
	if err != nil {
		s.logCall(callName, err.Status, err.Code)
		writeS3Error(w, r, err)
		return
	}
	s.logCall(callName, http.StatusOK, "")
}

// s3RequestRegion is the region of the request's SigV4 credential scope
// ("" when unsigned).
func s3RequestRegion(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if _, after, ok := strings.Cut(a, "Credential="); ok {
			cred, _, _ = strings.Cut(after, ",")
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 && parts[3] == "s3" {
		return parts[2]
	}
	return ""
}

// s3CheckRegion answers a request signed for another region than the
// bucket's as S3 does: 301 with the bucket's region in x-amz-bucket-region.
func (s *Sandbox) s3CheckRegion(r *http.Request, op, bucket string) *s3Error {
	if bucket == "" || op == "CreateBucket" {
		return nil
	}
	st := s.s3
	st.mu.Lock()
	b, ok := st.buckets[bucket]
	st.mu.Unlock()
	if !ok {
		return nil
	}
	if rr := s3RequestRegion(r); rr != "" && rr != b.region {
		return &s3Error{Status: http.StatusMovedPermanently, Code: "PermanentRedirect",
			Message:  "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
			Resource: bucket, Region: b.region}
	}
	return nil
}

func s3Headers(w http.ResponseWriter) {
	id := newRequestID()
	w.Header().Set("x-amz-request-id", strings.ToUpper(strings.ReplaceAll(id, "-", "")[:16]))
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(id)))
}

func writeS3Error(w http.ResponseWriter, r *http.Request, e *s3Error) {
	s3Headers(w)
	if e.Region != "" {
		w.Header().Set("x-amz-bucket-region", e.Region)
	}
	if r.Method == http.MethodHead {
		// HEAD responses have no body; the SDK tells errors apart by status.
		w.WriteHeader(e.Status)
		return
	}
	type errorBody struct {
		XMLName    xml.Name `xml:"Error"`
		Code       string   `xml:"Code"`
		Message    string   `xml:"Message"`
		BucketName string   `xml:"BucketName,omitempty"`
		Key        string   `xml:"Key,omitempty"`
		RequestID  string   `xml:"RequestId"`
		HostID     string   `xml:"HostId"`
	}
	b := errorBody{Code: e.Code, Message: e.Message, RequestID: w.Header().Get("x-amz-request-id"), HostID: w.Header().Get("x-amz-id-2")}
	if e.isKey {
		b.Key = e.Resource
	} else {
		b.BucketName = e.Resource
	}
	writeS3XML(w, e.Status, b)
}

func writeS3XML(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("x-amz-request-id") == "" {
		s3Headers(w)
	}
	out, err := xml.Marshal(v)
	if err != nil {
		status, out = http.StatusInternalServerError, []byte("<Error><Code>InternalError</Code></Error>")
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}

func (s *Sandbox) s3ListBuckets(w http.ResponseWriter) *s3Error {
	type bucket struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
	}
	type result struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		XMLNS   string   `xml:"xmlns,attr"`
		OwnerID string   `xml:"Owner>ID"`
		Buckets []bucket `xml:"Buckets>Bucket"`
	}
	st := s.s3
	st.mu.Lock()
	out := result{XMLNS: s3XMLNS, OwnerID: s.opts.AccountID}
	for _, b := range st.buckets {
		out.Buckets = append(out.Buckets, bucket{Name: b.name, CreationDate: s3Time(b.created)})
	}
	st.mu.Unlock()
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Name < out.Buckets[j].Name })
	writeS3XML(w, http.StatusOK, out)
	return nil
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Sandbox) s3CreateBucket(w http.ResponseWriter, r *http.Request, bucket string) *s3Error {
	if e := validBucketName(bucket); e != nil {
		return e
	}
	var conf struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	if raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16)); len(bytes.TrimSpace(raw)) > 0 {
		if err := xml.Unmarshal(raw, &conf); err != nil {
			return s3BadRequest("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := conf.LocationConstraint
	if region == "" {
		region = "us-east-1" // no constraint: US East (N. Virginia)
	}
	st := s.s3
	st.mu.Lock()
	_, exists := st.buckets[bucket]
	if !exists {
		st.buckets[bucket] = &s3Bucket{name: bucket, region: region, created: s.opts.Now().UTC(), objects: map[string]*s3Object{}}
	}
	st.mu.Unlock()
	if exists && s.opts.Region != "us-east-1" {
		// us-east-1 answers 200 to the owner for legacy reasons.
		return &s3Error{Status: http.StatusConflict, Code: "BucketAlreadyOwnedByYou",
			Message: "Your previous request to create the named bucket succeeded and you already own it.", Resource: bucket}
	}
	s3Headers(w)
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (st *s3Store) bucket(name string) (*s3Bucket, *s3Error) {
	b, ok := st.buckets[name]
	if !ok {
		return nil, noSuchBucket(name)
	}
	return b, nil
}

func (s *Sandbox) s3HeadBucket(w http.ResponseWriter, bucket string) *s3Error {
	st := s.s3
	st.mu.Lock()
	_, err := st.bucket(bucket)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s3Headers(w)
	w.Header().Set("x-amz-bucket-region", s.bucketRegion(bucket))
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Sandbox) s3DeleteBucket(w http.ResponseWriter, bucket string) *s3Error {
	st := s.s3
	st.mu.Lock()
	defer st.mu.Unlock()
	b, err := st.bucket(bucket)
	if err != nil {
		return err
	}
	if len(b.objects) > 0 {
		return &s3Error{Status: http.StatusConflict, Code: "BucketNotEmpty", Message: "The bucket you tried to delete is not empty", Resource: bucket}
	}
	delete(st.buckets, bucket)
	s3Headers(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Sandbox) s3GetBucketLocation(w http.ResponseWriter, bucket string) *s3Error {
	st := s.s3
	st.mu.Lock()
	_, err := st.bucket(bucket)
	st.mu.Unlock()
	if err != nil {
		return err
	}
	type result struct {
		XMLName  xml.Name `xml:"LocationConstraint"`
		XMLNS    string   `xml:"xmlns,attr"`
		Location string   `xml:",chardata"`
	}
	loc := s.bucketRegion(bucket)
	if loc == "us-east-1" {
		loc = "" // us-east-1 is reported as an empty constraint
	}
	writeS3XML(w, http.StatusOK, result{XMLNS: s3XMLNS, Location: loc})
	return nil
}

// s3Token is the opaque continuation token of ListObjectsV2: the last key or
// common prefix returned.
func s3Token(last string, isPrefix bool) string {
	kind := "k"
	if isPrefix {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(kind + last))
}

func parseS3Token(tok string) (last string, isPrefix bool, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || (b[0] != 'k' && b[0] != 'p') {
		return "", false, false
	}
	return string(b[1:]), b[0] == 'p', true
}

func (s *Sandbox) s3ListObjectsV2(w http.ResponseWriter, r *http.Request, bucket string) *s3Error {
	q := r.URL.Query()
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3BadRequest("InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	encodeURL := false
	switch et := q.Get("encoding-type"); et {
	case "":
	case "url":
		encodeURL = true
	default:
		return s3BadRequest("InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	after, afterIsPrefix := q.Get("start-after"), false
	if tok := q.Get("continuation-token"); tok != "" {
		last, isPrefix, ok := parseS3Token(tok)
		if !ok {
			return s3BadRequest("InvalidArgument", "The continuation token provided is incorrect")
		}
		if last > after {
			after, afterIsPrefix = last, isPrefix
		}
	}

	type content struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	}
	type commonPrefix struct {
		Prefix string `xml:"Prefix"`
	}
	type result struct {
		XMLName               xml.Name       `xml:"ListBucketResult"`
		XMLNS                 string         `xml:"xmlns,attr"`
		Name                  string         `xml:"Name"`
		Prefix                string         `xml:"Prefix"`
		Delimiter             string         `xml:"Delimiter,omitempty"`
		MaxKeys               int            `xml:"MaxKeys"`
		EncodingType          string         `xml:"EncodingType,omitempty"`
		KeyCount              int            `xml:"KeyCount"`
		IsTruncated           bool           `xml:"IsTruncated"`
		ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
		StartAfter            string         `xml:"StartAfter,omitempty"`
		Contents              []content      `xml:"Contents"`
		CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	}
	enc := func(v string) string {
		if encodeURL {
			return url.QueryEscape(v)
		}
		return v
	}

	st := s.s3
	st.mu.Lock()
	b, err := st.bucket(bucket)
	if err != nil {
		st.mu.Unlock()
		return err
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) && k > after && !(afterIsPrefix && strings.HasPrefix(k, after)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // S3 lists keys in UTF-8 binary order
	out := result{XMLNS: s3XMLNS, Name: bucket, Prefix: enc(prefix), Delimiter: enc(delim), MaxKeys: maxKeys,
		ContinuationToken: q.Get("continuation-token"), StartAfter: enc(q.Get("start-after"))}
	if encodeURL {
		out.EncodingType = "url"
	}
	lastPrefix := ""
	if maxKeys == 0 {
		keys = nil // max-keys=0 asks for no entries
	}
	for i, k := range keys {
		cp := ""
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp = k[:len(prefix)+j+len(delim)]
			}
		}
		if cp != "" && cp == lastPrefix {
			continue
		}
		if out.KeyCount == maxKeys {
			out.IsTruncated = true
			prev, prevIsPrefix := keys[i-1], lastPrefix != "" && strings.HasPrefix(keys[i-1], lastPrefix)
			if prevIsPrefix {
				prev = lastPrefix
			}
			out.NextContinuationToken = s3Token(prev, prevIsPrefix)
			break
		}
		out.KeyCount++
		if cp != "" {
			lastPrefix = cp
			out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: enc(cp)})
			continue
		}
		lastPrefix = ""
		o := b.objects[k]
		out.Contents = append(out.Contents, content{Key: enc(k), LastModified: s3Time(o.modified), ETag: o.etag,
			Size: int64(len(o.data)), StorageClass: "STANDARD"})
	}
	st.mu.Unlock()
	writeS3XML(w, http.StatusOK, out)
	return nil
}

// s3Body reads a request body: plain, or aws-chunked (SigV4 streaming or
// unsigned with trailing checksum), at most limit bytes.
func s3Body(r *http.Request, limit, maxBytes int64) ([]byte, http.Header, *s3Error) {
	var body io.Reader = r.Body
	trailer := http.Header{}
	sha := r.Header.Get("X-Amz-Content-Sha256")
	chunked := strings.HasPrefix(sha, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked")
	if chunked {
		body = newAWSChunkedReader(r.Body, trailer)
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		var se *s3Error
		if errors.As(err, &se) {
			return nil, nil, se
		}
		return nil, nil, s3BadRequest("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, nil, storageFull(maxBytes)
	}
	if chunked {
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" && dl != strconv.Itoa(len(data)) {
			return nil, nil, s3BadRequest("IncompleteBody", "decoded length %d is not x-amz-decoded-content-length %s", len(data), dl)
		}
	}
	for k, v := range r.Header {
		if _, ok := trailer[k]; !ok {
			trailer[k] = v
		}
	}
	if err := checkS3Digests(data, trailer); err != nil {
		return nil, nil, err
	}
	return data, trailer, nil
}

// s3Slot is where a write lands (an object's key, an upload's part
// number): the bytes it holds now and how to set what replaces them. It is
// looked up with st.mu held, before the body is read and again after, as
// the bucket or upload may be gone by then.
type s3Slot[T any] func() (held int64, set func(T), err *s3Error)

// inMap is the slot of k in m.
func inMap[K comparable, V interface{ size() int64 }](m map[K]V, k K) (int64, func(V), *s3Error) {
	held := int64(0)
	if v, ok := m[k]; ok {
		held = v.size()
	}
	return held, func(v V) { m[k] = v }, nil
}

// s3Stored answers a write that storeBody took.
func s3Stored(w http.ResponseWriter, etag string) *s3Error {
	s3Headers(w)
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
	return nil
}

// storeBody reads a request body of at most the room the store has left
// (counting the bytes the slot gives back), builds what the slot holds
// from it outside the lock (hashes of up to 5 GB), then accounts for it in
// place of the old bytes, or refuses it when the store would hold more
// than max.
func storeBody[T any](st *s3Store, r *http.Request, max int64, slot s3Slot[T], build func([]byte) T) (T, *s3Error) {
	var zero T
	st.mu.Lock()
	held, _, err := slot()
	room := max - st.bytes + held
	st.mu.Unlock()
	if err != nil {
		return zero, err
	}
	data, _, err := s3Body(r, room, max)
	if err != nil {
		return zero, err
	}
	v := build(data)
	st.mu.Lock()
	defer st.mu.Unlock()
	held, set, err := slot()
	if err != nil {
		return zero, err
	}
	n := int64(len(data))
	if st.bytes-held+n > max {
		return zero, storageFull(max)
	}
	st.bytes += n - held
	set(v)
	return v, nil
}

func (s *Sandbox) s3MaxBytes() int64 {
	if s.opts.S3MaxBytes > 0 {
		return s.opts.S3MaxBytes
	}
	return DefaultS3MaxBytes
}

func storageFull(max int64) *s3Error {
	return &s3Error{Status: http.StatusInsufficientStorage, Code: "SandboxStorageFull",
		Message: fmt.Sprintf("the apictl sandbox holds at most %d bytes of S3 data (Options.S3MaxBytes)", max)}
}

func md5ETag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func userMeta(h http.Header) http.Header {
	meta := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			meta[k] = v
		}
	}
	return meta
}

func (s *Sandbox) s3PutObject(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	st := s.s3
	slot := func() (int64, func(*s3Object), *s3Error) {
		b, err := st.bucket(bucket)
		if err != nil {
			return 0, nil, err
		}
		return inMap(b.objects, key)
	}
	obj, err := storeBody(st, r, s.s3MaxBytes(), slot, func(data []byte) *s3Object {
		return &s3Object{data: data, etag: md5ETag(data), modified: s.opts.Now().UTC(), crc64: crc64NVMEBase64(data),
			contentType: r.Header.Get("Content-Type"), meta: userMeta(r.Header)}
	})
	if err != nil {
		return err
	}
	return s3Stored(w, obj.etag)
}

// s3Range parses a single-range Range header against size: start and end
// (inclusive); ok false when there is none.
func s3Range(h string, size int64) (start, end int64, ok bool, e *s3Error) {
	if h == "" {
		return 0, 0, false, nil
	}
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil // S3 ignores ranges it does not support
	}
	a, bs, _ := strings.Cut(spec, "-")
	invalid := &s3Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidRange", Message: "The requested range is not satisfiable"}
	switch {
	case a == "":
		n, err := strconv.ParseInt(bs, 10, 64)
		if err != nil {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, invalid
		}
		return max(size-n, 0), size - 1, true, nil
	default:
		s, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return 0, 0, false, nil
		}
		end := size - 1
		if bs != "" {
			if end, err = strconv.ParseInt(bs, 10, 64); err != nil || end < s {
				return 0, 0, false, nil
			}
			end = min(end, size-1)
		}
		if s >= size {
			return 0, 0, false, invalid
		}
		return s, end, true, nil
	}
}

func (s *Sandbox) s3GetObject(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	st := s.s3
	st.mu.Lock()
	b, err := st.bucket(bucket)
	if err != nil {
		st.mu.Unlock()
		return err
	}
	o, ok := b.objects[key]
	st.mu.Unlock()
	if !ok {
		return noSuchKey(key)
	}
	// Objects are never changed in place (a new PutObject replaces the
	// pointer), so o can be read without the lock.
	size := int64(len(o.data))
	start, end, ranged, rerr := s3Range(r.Header.Get("Range"), size)
	if rerr != nil {
		return rerr
	}
	h := w.Header()
	if pn := r.URL.Query().Get("partNumber"); pn != "" {
		n, perr := strconv.Atoi(pn)
		parts := len(o.partEnds)
		if perr != nil || n < 1 || (parts == 0 && n != 1) || (parts > 0 && n > parts) {
			return &s3Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidPartNumber", Message: "The requested partnumber is not satisfiable"}
		}
		start, end, ranged = 0, size-1, true
		if parts > 0 {
			if n > 1 {
				start = o.partEnds[n-2]
			}
			end = o.partEnds[n-1] - 1
			h.Set("x-amz-mp-parts-count", strconv.Itoa(parts))
		}
	}
	s3Headers(w)
	ct := o.contentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for k, v := range o.meta {
		h[k] = v
	}
	status := http.StatusOK
	body := o.data
	if !ranged && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// S3 gives every new object a full-object CRC64NVME checksum when the
		// upload named none; the SDK then validates the body it reads.
		h.Set("x-amz-checksum-crc64nvme", o.crc64)
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	if ranged {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size))
		body = o.data[start : end+1]
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

func (s *Sandbox) s3DeleteObject(w http.ResponseWriter, bucket, key string) *s3Error {
	st := s.s3
	st.mu.Lock()
	defer st.mu.Unlock()
	b, err := st.bucket(bucket)
	if err != nil {
		return err
	}
	if o, ok := b.objects[key]; ok {
		st.bytes -= int64(len(o.data))
		delete(b.objects, key)
	}
	s3Headers(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Sandbox) s3CreateMultipartUpload(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	st := s.s3
	st.mu.Lock()
	if _, err := st.bucket(bucket); err != nil {
		st.mu.Unlock()
		return err
	}
	id := newKeyValue()
	st.uploads[id] = &s3Upload{bucket: bucket, key: key, contentType: r.Header.Get("Content-Type"),
		meta: userMeta(r.Header), parts: map[int]*s3Part{}}
	st.mu.Unlock()
	type result struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		XMLNS    string   `xml:"xmlns,attr"`
		Bucket   string   `xml:"Bucket"`
		Key      string   `xml:"Key"`
		UploadID string   `xml:"UploadId"`
	}
	writeS3XML(w, http.StatusOK, result{XMLNS: s3XMLNS, Bucket: bucket, Key: key, UploadID: id})
	return nil
}

func (st *s3Store) upload(id, bucket, key string) (*s3Upload, *s3Error) {
	if _, err := st.bucket(bucket); err != nil {
		return nil, err
	}
	u, ok := st.uploads[id]
	if !ok || u.bucket != bucket || u.key != key {
		return nil, noSuchUpload(id)
	}
	return u, nil
}

func (s *Sandbox) s3UploadPart(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	q := r.URL.Query()
	id := q.Get("uploadId")
	n, perr := strconv.Atoi(q.Get("partNumber"))
	if perr != nil || n < 1 || n > 10000 {
		return s3BadRequest("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
	}
	st := s.s3
	slot := func() (int64, func(*s3Part), *s3Error) {
		u, err := st.upload(id, bucket, key)
		if err != nil {
			return 0, nil, err
		}
		return inMap(u.parts, n)
	}
	p, err := storeBody(st, r, s.s3MaxBytes(), slot, func(data []byte) *s3Part {
		return &s3Part{data: data, etag: md5ETag(data)}
	})
	if err != nil {
		return err
	}
	return s3Stored(w, p.etag)
}

func (s *Sandbox) s3CompleteMultipartUpload(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	var req struct {
		Parts []struct {
			PartNumber int    `xml:"PartNumber"`
			ETag       string `xml:"ETag"`
		} `xml:"Part"`
	}
	raw, rerr := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if rerr != nil || xml.Unmarshal(raw, &req) != nil {
		return s3BadRequest("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if len(req.Parts) == 0 {
		return s3BadRequest("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	id := r.URL.Query().Get("uploadId")
	st := s.s3
	st.mu.Lock()
	defer st.mu.Unlock()
	u, err := st.upload(id, bucket, key)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	var sums []byte
	ends := make([]int64, 0, len(req.Parts))
	prev := 0
	for i, rp := range req.Parts {
		if rp.PartNumber <= prev {
			return s3BadRequest("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
		prev = rp.PartNumber
		p, ok := u.parts[rp.PartNumber]
		if !ok || strings.Trim(rp.ETag, `"`) != strings.Trim(p.etag, `"`) {
			return s3BadRequest("InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		if i < len(req.Parts)-1 && len(p.data) < s3MinPartSize {
			return s3BadRequest("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
		}
		buf.Write(p.data)
		ends = append(ends, int64(buf.Len()))
		sum, _ := hex.DecodeString(strings.Trim(p.etag, `"`))
		sums = append(sums, sum...)
	}
	b := st.buckets[bucket]
	for _, p := range u.parts {
		st.bytes -= int64(len(p.data))
	}
	if o, ok := b.objects[key]; ok {
		st.bytes -= int64(len(o.data))
	}
	st.bytes += int64(buf.Len())
	delete(st.uploads, id)
	all := md5.Sum(sums)
	obj := &s3Object{data: buf.Bytes(), etag: fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(all[:]), len(req.Parts)),
		modified: s.opts.Now().UTC(), contentType: u.contentType, meta: u.meta, partEnds: ends, crc64: crc64NVMEBase64(buf.Bytes())}
	b.objects[key] = obj
	type result struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		XMLNS    string   `xml:"xmlns,attr"`
		Location string   `xml:"Location"`
		Bucket   string   `xml:"Bucket"`
		Key      string   `xml:"Key"`
		ETag     string   `xml:"ETag"`
	}
	loc := s.URL() + "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath()
	writeS3XML(w, http.StatusOK, result{XMLNS: s3XMLNS, Location: loc, Bucket: bucket, Key: key, ETag: obj.etag})
	return nil
}

func (s *Sandbox) s3AbortMultipartUpload(w http.ResponseWriter, r *http.Request, bucket, key string) *s3Error {
	id := r.URL.Query().Get("uploadId")
	st := s.s3
	st.mu.Lock()
	defer st.mu.Unlock()
	u, err := st.upload(id, bucket, key)
	if err != nil {
		return err
	}
	for _, p := range u.parts {
		st.bytes -= int64(len(p.data))
	}
	delete(st.uploads, id)
	s3Headers(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
