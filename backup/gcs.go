package backup

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	gcsDefaultEndpoint = "https://storage.googleapis.com"
	gcsDefaultTokenURL = "https://oauth2.googleapis.com/token"
	gcsScope           = "https://www.googleapis.com/auth/devstorage.read_write"
	gcsIDKey           = "rqlite-auto-backup-id"
)

// GCSStorage talks to Google Cloud Storage's JSON API with a service
// account's credentials (type gcs). The bearer token comes from a signed
// JWT exchanged at the token URL and is reused until shortly before it
// expires.
type GCSStorage struct {
	cfg       GCSConfig
	endpoint  string
	tokenURL  string
	email     string
	key       *rsa.PrivateKey
	timestamp bool
	client    *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// serviceAccount is the part of a service-account key file used here.
type serviceAccount struct {
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
	TokenURI    string `json:"token_uri"`
}

// NewGCSStorage reads the service-account credentials.
func NewGCSStorage(cfg *GCSConfig, timestamp bool) (*GCSStorage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(cfg.CredentialsPath)
	if err != nil {
		return nil, fmt.Errorf("gcs: read credentials: %w", err)
	}
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, fmt.Errorf("gcs: parse credentials %s: %w", cfg.CredentialsPath, err)
	}
	key, err := parseRSAKey(sa.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("gcs: credentials %s: %w", cfg.CredentialsPath, err)
	}
	if sa.ClientEmail == "" {
		return nil, fmt.Errorf("gcs: credentials %s have no client_email", cfg.CredentialsPath)
	}
	s := &GCSStorage{cfg: *cfg, endpoint: strings.TrimRight(withScheme(cfg.Endpoint), "/"), tokenURL: cfg.TokenURL,
		email: sa.ClientEmail, key: key, timestamp: timestamp, client: &http.Client{}}
	if s.endpoint == "" {
		s.endpoint = gcsDefaultEndpoint
	}
	if s.tokenURL == "" {
		s.tokenURL = sa.TokenURI
	}
	if s.tokenURL == "" {
		s.tokenURL = gcsDefaultTokenURL
	}
	return s, nil
}

func parseRSAKey(p string) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(p))
	if blk == nil {
		return nil, errors.New("private_key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		if k1, err1 := x509.ParsePKCS1PrivateKey(blk.Bytes); err1 == nil {
			return k1, nil
		}
		return nil, fmt.Errorf("private_key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("private_key is not an RSA key")
	}
	return rk, nil
}

func (s *GCSStorage) String() string { return "gs://" + s.cfg.Bucket + "/" + s.cfg.Name }

// accessToken returns a valid bearer token, exchanging a new JWT when
// needed.
func (s *GCSStorage) accessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.expires) {
		return s.token, nil
	}
	jwt, err := s.signedJWT(time.Now())
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := s.doJSON(req, &tok); err != nil {
		return "", fmt.Errorf("gcs: token exchange: %w", err)
	}
	if tok.AccessToken == "" {
		return "", errors.New("gcs: token exchange returned no access_token")
	}
	s.token = tok.AccessToken
	s.expires = time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return s.token, nil
}

// signedJWT is the RS256 assertion of the token exchange.
func (s *GCSStorage) signedJWT(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"iss": s.email, "scope": gcsScope, "aud": s.tokenURL,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("gcs: sign JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// errNotFound is a 404 from the storage API.
var errNotFound = errors.New("not found")

// do sends req and fails on a status other than 2xx.
func (s *GCSStorage) do(req *http.Request) (*http.Response, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, errNotFound)
		}
		return nil, fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp, nil
}

func (s *GCSStorage) doJSON(req *http.Request, into any) error {
	resp, err := s.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(into)
}

func (s *GCSStorage) authed(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return req, nil
}

func (s *GCSStorage) objectURL(name string) string {
	return s.endpoint + "/storage/v1/b/" + url.PathEscape(s.cfg.Bucket) + "/o/" + url.PathEscape(name)
}

// Upload sends a multipart upload: the object's metadata (with the ID),
// then its bytes.
func (s *GCSStorage) Upload(ctx context.Context, r io.Reader, _ int64, id string, at time.Time) error {
	name := s.cfg.Name
	if s.timestamp {
		name = timestamped(name, at)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeGCSBody(mw, name, id, r)) }()
	u := s.endpoint + "/upload/storage/v1/b/" + url.PathEscape(s.cfg.Bucket) + "/o?uploadType=multipart"
	req, err := s.authed(ctx, http.MethodPost, u, pr)
	if err != nil {
		pr.CloseWithError(err)
		return wrapStorage("upload to", s.String(), err)
	}
	req.Header.Set("Content-Type", "multipart/related; boundary="+mw.Boundary())
	resp, err := s.do(req)
	if err != nil {
		pr.CloseWithError(err)
		return wrapStorage("upload to", s.String(), err)
	}
	resp.Body.Close()
	return nil
}

func writeGCSBody(mw *multipart.Writer, name, id string, r io.Reader) error {
	meta, _ := json.Marshal(map[string]any{"name": name, "metadata": map[string]string{gcsIDKey: id}})
	h := textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}}
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(meta); err != nil {
		return err
	}
	if pw, err = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/octet-stream"}}); err != nil {
		return err
	}
	if _, err := io.Copy(pw, r); err != nil {
		return err
	}
	return mw.Close()
}

// CurrentID reads the ID from the object's metadata.
func (s *GCSStorage) CurrentID(ctx context.Context) (string, error) {
	req, err := s.authed(ctx, http.MethodGet, s.objectURL(s.cfg.Name), nil)
	if err != nil {
		return "", err
	}
	var obj struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := s.doJSON(req, &obj); err != nil {
		if errors.Is(err, errNotFound) {
			return "", ErrNoStoredID
		}
		return "", wrapStorage("read backup ID from", s.String(), err)
	}
	id := obj.Metadata[gcsIDKey]
	if id == "" {
		return "", ErrNoStoredID
	}
	return id, nil
}

// Download copies the object's bytes to w.
func (s *GCSStorage) Download(ctx context.Context, w io.Writer) error {
	req, err := s.authed(ctx, http.MethodGet, s.objectURL(s.cfg.Name)+"?alt=media", nil)
	if err != nil {
		return err
	}
	resp, err := s.do(req)
	if err != nil {
		return wrapStorage("download", s.String(), err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return wrapStorage("download", s.String(), err)
}
