package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// sigv4Verifier is an http.Handler that recomputes each request's
// Signature Version 4 from what it received, with the same signer and
// credentials, and answers 403 when the signatures differ.
type sigv4Verifier struct {
	creds    aws.Credentials
	region   string
	ok, bad  atomic.Int64
	lastFail atomic.Value
}

func (v *sigv4Verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := v.verify(r); err != nil {
		v.bad.Add(1)
		v.lastFail.Store(err.Error())
		http.Error(w, `{"message":"`+err.Error()+`"}`, http.StatusForbidden)
		return
	}
	v.ok.Add(1)
	w.WriteHeader(http.StatusOK)
}

func (v *sigv4Verifier) verify(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return fmt.Errorf("missing sigv4 authorization")
	}
	var signedHeaders string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if k, val, ok := strings.Cut(part, "="); ok && k == "SignedHeaders" {
			signedHeaders = val
		}
	}
	if !strings.Contains(auth, "/"+v.region+"/execute-api/aws4_request") {
		return fmt.Errorf("wrong scope in %q", auth)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("bad x-amz-date: %w", err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	// Rebuild the request as the client sent it, with only the signed headers.
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	re, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signedHeaders, ";") {
		if h == "host" {
			continue
		}
		re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	re.Header.Del("Authorization")
	hash := hexSHA256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), v.creds, re, hash, "execute-api", v.region, when); err != nil {
		return err
	}
	if got := re.Header.Get("Authorization"); got != auth {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

// tamper changes the request after it was signed.
type tamper struct {
	base http.RoundTripper
	fn   func(*http.Request)
}

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	t.fn(r2)
	return t.base.RoundTrip(r2)
}

func TestSigV4SignsEveryRequest(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "token"}
	v := &sigv4Verifier{creds: creds, region: "eu-west-1"}
	url := serve(t, v)
	signer, err := NewSigV4(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	targets := Targets{
		{Method: "GET", URL: url + "/pets/42?b=2&a=1"},
		{Method: "POST", URL: url + "/pets", Body: []byte(`{"name":"rex"}`), Header: http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {"k"}}},
	}
	c, err := Run(context.Background(), targets, 50, time.Second, Options{Attack: AttackOptions{SigV4: signer}})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Steps[0]; st.SuccessRatio != 1 || st.Requests < 40 {
		t.Fatalf("success %v of %d: %v (last failure %v)", st.SuccessRatio, st.Requests, st.Errors, v.lastFail.Load())
	}
	if v.ok.Load() < 40 || v.bad.Load() != 0 {
		t.Errorf("verified %d, rejected %d", v.ok.Load(), v.bad.Load())
	}

	// The verifier rejects requests altered after signing, and unsigned ones.
	for name, fn := range map[string]func(*http.Request){
		"body": func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"name":"evil"}`))
			r.ContentLength = 15
		},
		"query":    func(r *http.Request) { r.URL.RawQuery = "b=3&a=1" },
		"header":   func(r *http.Request) { r.Header.Set("X-Api-Key", "other") },
		"unsigned": func(r *http.Request) { r.Header.Del("Authorization") },
	} {
		e := NewEngine(AttackOptions{SigV4: signer})
		e.transport2 = tamper{base: e.transport, fn: fn}
		tg := targets[1:]
		if name == "query" {
			tg = targets[:1]
		}
		st, err := e.RunStep(context.Background(), StepSpec{Phase: "fixed", Rate: 20, Duration: 500 * time.Millisecond, Targets: tg, Objectives: DefaultObjectives()})
		if err != nil {
			t.Fatal(err)
		}
		if st.Requests == 0 || st.StatusCodes["403"] != st.Requests {
			t.Errorf("%s tampered: codes %v, want all 403", name, st.StatusCodes)
		}
	}
}

func TestNewSigV4NeedsCredentialsAndRegion(t *testing.T) {
	if _, err := NewSigV4(nil, "us-east-1"); err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Errorf("nil creds: %v", err)
	}
	if _, err := NewSigV4(credentials.NewStaticCredentialsProvider("a", "b", ""), ""); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region: %v", err)
	}
}
