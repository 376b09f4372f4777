package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Role is what a token may do.
type Role string

// The roles: viewer reads; analyst reads and triages (findings,
// suppressions, policy what-if); admin does everything; ingest only
// writes data in.
const (
	Viewer  Role = "viewer"
	Analyst Role = "analyst"
	Admin   Role = "admin"
	Ingest  Role = "ingest"
)

// Roles lists the roles, least powerful first.
var Roles = []Role{Ingest, Viewer, Analyst, Admin}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("role %q: want viewer, analyst, admin or ingest", s)
}

// Token is one API token as the token file keeps it: never the secret,
// only its SHA-256.
type Token struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Tenant   string    `json:"tenant"`
	Role     Role      `json:"role"`
	Hash     string    `json:"hash,omitempty"` // hex SHA-256 of the secret
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// TokenPrefix starts every secret, so that a leaked one is recognisable
// (secret scanners, logs).
const TokenPrefix = "osp_"

// Errors of Authenticate.
var (
	ErrNoToken      = errors.New("no such token")
	ErrTokenExpired = errors.New("token expired")
)

// Tokens is the token file. Secrets are 256 random bits, so a single
// SHA-256 is enough to store them: a slow password hash (bcrypt, argon2)
// defends low-entropy secrets against guessing, and 2^256 candidates
// cannot be guessed however fast the hash. A fast hash also lets every
// request be checked by a map lookup, whose timing reveals nothing about
// the secret (only about its hash).
type Tokens struct {
	path string
	mu   sync.Mutex
	// byHash is the file's tokens; stamp is the file's size and mtime
	// when read, to notice osprey token create or revoke.
	byHash map[string]*Token
	stamp  string
	// used are last-use times not yet written back.
	used map[string]time.Time
}

// OpenTokens reads the token file; a missing file is no tokens yet.
func OpenTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path, used: map[string]time.Time{}}
	if err := t.reload(); err != nil {
		return nil, err
	}
	return t, nil
}

type tokenFile struct {
	Tokens []*Token `json:"tokens"`
}

func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// reload reads the file when it changed; mu is held or t is new.
func (t *Tokens) reload() error {
	st := fileStamp(t.path)
	if t.byHash != nil && st == t.stamp {
		return nil
	}
	data, err := os.ReadFile(t.path)
	if errors.Is(err, os.ErrNotExist) {
		t.byHash, t.stamp = map[string]*Token{}, st
		return nil
	}
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("token file %s: %w", t.path, err)
	}
	by := make(map[string]*Token, len(f.Tokens))
	for i, tok := range f.Tokens {
		if tok == nil || len(tok.Hash) != 64 || tok.ID == "" {
			return fmt.Errorf("token file %s: tokens[%d]: no id or hash", t.path, i)
		}
		if _, err := ParseRole(string(tok.Role)); err != nil {
			return fmt.Errorf("token file %s: tokens[%d]: %w", t.path, i, err)
		}
		by[tok.Hash] = tok
	}
	t.byHash, t.stamp = by, st
	return nil
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Authenticate returns the token of a secret, at now.
func (t *Tokens) Authenticate(secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, ErrNoToken
	}
	h := hashSecret(secret)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reload(); err != nil {
		return Token{}, err
	}
	tok, ok := t.byHash[h]
	if !ok {
		return Token{}, ErrNoToken
	}
	if !tok.Expires.IsZero() && !now.Before(tok.Expires) {
		return Token{}, ErrTokenExpired
	}
	t.used[tok.ID] = now
	out := *tok
	out.Hash = ""
	return out, nil
}

// Create adds a token and returns its secret, which is shown once and
// kept nowhere.
func (t *Tokens) Create(name, tenant string, role Role, expires, now time.Time) (string, Token, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", Token{}, err
	}
	if tenant == "" {
		return "", Token{}, errors.New("tenant: empty")
	}
	if name == "" {
		return "", Token{}, errors.New("name: empty")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Token{}, err
	}
	tok := &Token{ID: "tok_" + hex.EncodeToString(id[:]), Name: name, Tenant: tenant, Role: role,
		Hash: hashSecret(secret), Created: now.UTC(), Expires: expires.UTC()}
	if expires.IsZero() {
		tok.Expires = time.Time{}
	}
	err := t.update(func(m map[string]*Token) error {
		m[tok.Hash] = tok
		return nil
	})
	out := *tok
	out.Hash = ""
	return secret, out, err
}

// List returns the tokens of tenant (every tenant's when tenant is
// "*"), oldest first, without their hashes.
func (t *Tokens) List(tenant string) ([]Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reload(); err != nil {
		return nil, err
	}
	var out []Token
	for _, tok := range t.byHash {
		if tenant == "*" || tok.Tenant == tenant {
			c := *tok
			c.Hash = ""
			if u, ok := t.used[c.ID]; ok && u.After(c.LastUsed) {
				c.LastUsed = u
			}
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Revoke deletes a token of tenant ("*": any) by id; ErrNoToken when
// there is none.
func (t *Tokens) Revoke(id, tenant string) error {
	return t.update(func(m map[string]*Token) error {
		for h, tok := range m {
			if tok.ID == id && (tenant == "*" || tok.Tenant == tenant) {
				delete(m, h)
				return nil
			}
		}
		return ErrNoToken
	})
}

// Flush writes the last-use times back to the file.
func (t *Tokens) Flush() error {
	t.mu.Lock()
	n := len(t.used)
	t.mu.Unlock()
	if n == 0 {
		return nil
	}
	return t.update(func(map[string]*Token) error { return nil })
}

// update re-reads the file, applies fn and writes it back atomically
// (0600), last-use times included.
func (t *Tokens) update(fn func(map[string]*Token) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.reload(); err != nil {
		return err
	}
	next := make(map[string]*Token, len(t.byHash)+1)
	for h, tok := range t.byHash {
		c := *tok
		if u, ok := t.used[c.ID]; ok && u.After(c.LastUsed) {
			c.LastUsed = u
		}
		next[h] = &c
	}
	if err := fn(next); err != nil {
		return err
	}
	f := tokenFile{Tokens: make([]*Token, 0, len(next))}
	for _, tok := range next {
		f.Tokens = append(f.Tokens, tok)
	}
	slices.SortFunc(f.Tokens, func(a, b *Token) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(t.path, append(data, '\n')); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	t.byHash, t.stamp = next, fileStamp(t.path)
	clear(t.used)
	return nil
}

// writeAtomic replaces path with data, mode 0600: a crash leaves the old
// file or the new one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tokens-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ParseLifetime reads a token lifetime: a Go duration or days (90d).
func ParseLifetime(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (2160h, 90d)", s)
	}
	return d, nil
}
