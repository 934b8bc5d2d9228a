package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/apictl/apictl/internal/s3results"
)

// resultsObjectName names this generator's object under --results
// s3://bucket/prefix/. (With --shard I/N each shard names its own:
// shard-<I>-of-<N>.gob.)
func (opts *LoadtestOptions) resultsObjectName() string {
	if sh := opts.plan.shard; sh.Sharded() {
		return fmt.Sprintf("shard-%d-of-%d.gob", sh.Index, sh.Count)
	}
	return "results.gob"
}

// createS3Results starts streaming the results to --results s3://…/. The
// upload outlives a cancelled ctx, so the first Ctrl-C still keeps the
// results measured so far, as it does for a file.
func (opts *LoadtestOptions) createS3Results(ctx context.Context) (*s3ResultsWriter, error) {
	if _, err := s3results.ParseLocation(opts.ResultsFile); err != nil {
		return nil, FlagErrorf("--results %v", err)
	}
	clients, err := opts.AWS(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s3results.Create(context.WithoutCancel(ctx), clients.S3, opts.ResultsFile, opts.resultsObjectName())
	if err != nil {
		var nsb *s3results.NoSuchBucketError
		if errors.As(err, &nsb) {
			return nil, WithHint(fmt.Errorf("--results: %w", err),
				fmt.Sprintf("create it first (aws s3 mb s3://%s) or give another --results s3://bucket/prefix/", nsb.Bucket))
		}
		return nil, WithHint(fmt.Errorf("--results: %w", err), "check the AWS credentials and the bucket's policy (s3:PutObject on the prefix)")
	}
	if opts.IO != nil && (opts.Quiet == nil || !opts.Quiet()) {
		fmt.Fprintf(opts.IO.ErrOut, "results → %s (streamed)\n", w.Object)
	}
	return &s3ResultsWriter{w}, nil
}

// s3ResultsWriter adds a way out to a failed upload.
type s3ResultsWriter struct{ *s3results.Writer }

func (w *s3ResultsWriter) Close() error {
	if err := w.Writer.Close(); err != nil {
		return WithHint(err, "the run's results are lost; check the bucket's policy (s3:PutObject, s3:AbortMultipartUpload on the prefix) and the network, or write --results to a file")
	}
	return nil
}
