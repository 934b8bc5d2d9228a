package awsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

func TestRetriesTooManyRequests(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("x-amzn-ErrorType", "TooManyRequestsException")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"message":"Too Many Requests"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"item":[{"id":"abc","name":"cart-api"}]}`))
	}))
	defer srv.Close()

	c, err := NewClients(context.Background(), Settings{Region: "us-east-1", EndpointURL: srv.URL, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.APIGateway.GetRestApis(context.Background(), &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatalf("GetRestApis after two throttles: %v", err)
	}
	if calls.Load() != 3 || len(out.Items) != 1 || aws.ToString(out.Items[0].Name) != "cart-api" {
		t.Errorf("calls = %d, items = %+v", calls.Load(), out.Items)
	}
}

func TestGivesUpAndClassifies(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("x-amzn-ErrorType", "NotFoundException")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"Invalid API identifier specified"}`))
	}))
	defer srv.Close()
	c, err := NewClients(context.Background(), Settings{Region: "us-east-1", EndpointURL: srv.URL, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.APIGateway.GetRestApi(context.Background(), &apigateway.GetRestApiInput{RestApiId: aws.String("nope")})
	if !IsNotFound(err) || IsThrottle(err) || IsConflict(err) {
		t.Fatalf("err = %v: want NotFound only", err)
	}
	if calls.Load() != 1 {
		t.Errorf("a NotFound must not be retried: %d calls", calls.Load())
	}
	if IsNotFound(errors.New("plain")) {
		t.Error("plain error classified as NotFound")
	}
}

func TestMissingRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	_, err := LoadConfig(context.Background(), Settings{StaticCredentials: true})
	var mr *MissingRegionError
	if !errors.As(err, &mr) {
		t.Fatalf("err = %v, want MissingRegionError", err)
	}
}
