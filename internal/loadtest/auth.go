package loadtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 signs requests with AWS Signature Version 4 (IAM-authorised API
// Gateway methods use service "execute-api").
type SigV4 struct {
	Credentials aws.CredentialsProvider
	Region      string
	// Service defaults to "execute-api".
	Service string
	// Now is the signing clock (default time.Now).
	Now func() time.Time

	signer *v4.Signer
}

// emptyPayloadHash is the SHA-256 of an empty payload.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// NewSigV4 returns a signer; the credentials are cached (aws.CredentialsCache)
// so that signing does not fetch credentials per request.
func NewSigV4(creds aws.CredentialsProvider, region string) (*SigV4, error) {
	if creds == nil {
		return nil, fmt.Errorf("sigv4: no AWS credentials: configure a profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
	}
	if region == "" {
		return nil, ErrNoRegion
	}
	if _, ok := creds.(*aws.CredentialsCache); !ok {
		creds = aws.NewCredentialsCache(creds)
	}
	return &SigV4{Credentials: creds, Region: region}, nil
}

func (s *SigV4) sign(ctx context.Context, r *http.Request) error {
	if s.signer == nil {
		s.signer = v4.NewSigner()
	}
	creds, err := s.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("sigv4: retrieve credentials: %w", err)
	}
	hash := emptyPayloadHash
	if r.Body != nil && r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return fmt.Errorf("sigv4: read body: %w", err)
		}
		data, err := io.ReadAll(body)
		if err != nil {
			return fmt.Errorf("sigv4: hash body: %w", err)
		}
		hash = hexSHA256(data)
	}
	service := s.Service
	if service == "" {
		service = "execute-api"
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return s.signer.SignHTTP(ctx, creds, r, hash, service, s.Region, now())
}

// Prepare creates the signer up front so concurrent signing does not race
// on its lazy creation.
func (s *SigV4) prepare() {
	if s != nil && s.signer == nil {
		s.signer = v4.NewSigner()
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
