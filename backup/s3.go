package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3IDKey is the user metadata key that holds the backup ID; on the wire
// it is the header x-amz-meta-x-rqlite-auto-backup-id (OPS.md §2.3).
const s3IDKey = "x-rqlite-auto-backup-id"

// s3PartSize is the part size of multipart uploads; bodies above it go
// up in parts.
const s3PartSize = 16 << 20

// S3Storage talks to S3 or an S3-compatible service (type s3) through
// minio-go, which signs requests (SigV4) and uploads large bodies in
// parts.
type S3Storage struct {
	cfg       S3Config
	client    *minio.Client
	dest      string
	timestamp bool
}

// NewS3Storage creates the client. No request is made.
func NewS3Storage(cfg *S3Config, timestamp bool) (*S3Storage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, secure, err := s3Host(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	creds := credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	if cfg.AccessKeyID == "" {
		// The AWS default chain: environment, shared files, instance role.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if cfg.ForcePathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: cfg.Region, BucketLookup: lookup})
	if err != nil {
		return nil, fmt.Errorf("s3: create client: %w", err)
	}
	dest := "s3://" + cfg.Bucket + "/" + cfg.Path
	if cfg.Endpoint != "" {
		dest = strings.TrimRight(withScheme(cfg.Endpoint), "/") + "/" + cfg.Bucket + "/" + cfg.Path
	}
	return &S3Storage{cfg: *cfg, client: c, dest: dest, timestamp: timestamp}, nil
}

// s3Host turns the endpoint into the host minio-go dials and whether it
// uses TLS; no endpoint means AWS.
func s3Host(ep string) (string, bool, error) {
	if ep == "" {
		return "s3.amazonaws.com", true, nil
	}
	u, err := url.Parse(withScheme(ep))
	if err != nil || u.Host == "" {
		return "", false, fmt.Errorf("s3: invalid endpoint %q", ep)
	}
	return u.Host, u.Scheme == "https", nil
}

func (s *S3Storage) String() string { return s.dest }

// Upload puts the object with the ID in its user metadata.
func (s *S3Storage) Upload(ctx context.Context, r io.Reader, size int64, id string, at time.Time) error {
	key := s.cfg.Path
	if s.timestamp {
		key = timestamped(key, at)
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, r, size, minio.PutObjectOptions{
		UserMetadata: map[string]string{s3IDKey: id},
		ContentType:  "application/octet-stream",
		PartSize:     s3PartSize,
		// Plain payload signing (UNSIGNED-PAYLOAD) with a Content-MD5 per
		// request instead of aws-chunked streaming signatures, which
		// minio-go uses over plain HTTP and some S3-compatible servers
		// (gofakes3 among them) store undecoded in multipart parts.
		DisableContentSha256: true,
		SendContentMd5:       true,
	})
	return wrapStorage("upload to", s.dest, err)
}

// CurrentID reads the ID from the object's metadata (HeadObject).
func (s *S3Storage) CurrentID(ctx context.Context) (string, error) {
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, s.cfg.Path, minio.StatObjectOptions{})
	if err != nil {
		var er minio.ErrorResponse
		if errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == 404) {
			return "", ErrNoStoredID
		}
		return "", wrapStorage("read backup ID from", s.dest, err)
	}
	for k, v := range info.UserMetadata {
		if strings.EqualFold(k, s3IDKey) {
			return v, nil
		}
	}
	return "", ErrNoStoredID
}

// Download copies the object to w.
func (s *S3Storage) Download(ctx context.Context, w io.Writer) error {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.cfg.Path, minio.GetObjectOptions{})
	if err != nil {
		return wrapStorage("download", s.dest, err)
	}
	defer obj.Close()
	_, err = io.Copy(w, obj)
	return wrapStorage("download", s.dest, err)
}
