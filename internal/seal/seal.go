// Package seal encrypts small secrets at rest (AES-256-GCM) with a key that
// lives outside the raft log and snapshots: a key file in the server's data
// dir (<data>/keys/state.key, created on first start) or one the operator
// provides (berth server --state-key-file).
//
// Contract: Seal(plaintext, ad) returns a self-describing sealed form that
// names the key it was sealed with (its key ID), so keys can rotate: a
// Sealer seals with its current key and opens with any key it holds. Open
// with the same associated data returns the plaintext; any change of the
// sealed bytes, the associated data or the key is an error, never wrong
// plaintext. Callers bind a secret to its owner through the associated
// data (a certificate's ARN), so a sealed value copied onto another record
// does not open.
//
// Sealed form: byte 0 the format version (1), byte 1 the key ID's length
// n, n bytes of key ID, a 12-byte random nonce, then the GCM ciphertext
// and tag. The header (version and key ID) is authenticated with the
// caller's associated data.
//
// Invariants: the key file is 32 random bytes, mode 0600 in a 0700 dir; a
// key file readable by group or others is refused. Nothing in this package
// logs or returns key material or plaintext in errors.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a key: AES-256.
const KeySize = 32

// KeyFile is the key file's path inside a data dir.
const KeyFile = "keys/state.key"

const (
	version   = 1
	nonceSize = 12
)

// Errors Open returns.
var (
	// ErrUnknownKey: the value was sealed with a key this Sealer does not hold.
	ErrUnknownKey = errors.New("seal: sealed with a key this server does not hold")
	// ErrOpen: the value, its associated data or the key do not match
	// (tampered, copied or truncated).
	ErrOpen = errors.New("seal: the sealed value does not open (tampered, truncated, or not sealed for this owner)")
)

// Sealer seals with one current key and opens with any key it holds.
type Sealer struct {
	current string
	keys    map[string]cipher.AEAD
}

// New returns a Sealer whose current key is key; older keys (rotated
// out) still open what they sealed.
func New(key []byte, older ...[]byte) (*Sealer, error) {
	s := &Sealer{keys: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{key}, older...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("seal: a key is %d bytes, not %d", KeySize, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		id := KeyID(k)
		if i == 0 {
			s.current = id
		}
		s.keys[id] = aead
	}
	return s, nil
}

// KeyID names a key without revealing it: the first 8 bytes of the
// SHA-256 of "berth-seal-key-id\x00" and the key, in hex.
func KeyID(key []byte) string {
	h := sha256.Sum256(append([]byte("berth-seal-key-id\x00"), key...))
	return hex.EncodeToString(h[:8])
}

// KeyID is the ID of the key Seal uses.
func (s *Sealer) KeyID() string { return s.current }

// Seal encrypts plaintext with the current key, authenticating ad with it.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	aead := s.keys[s.current]
	header := append([]byte{version, byte(len(s.current))}, s.current...)
	out := make([]byte, len(header)+nonceSize, len(header)+nonceSize+len(plaintext)+aead.Overhead())
	copy(out, header)
	if _, err := rand.Read(out[len(header):]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	nonce := out[len(header):]
	return aead.Seal(out, nonce, plaintext, additional(header, ad)), nil
}

// Open decrypts a sealed value with the associated data it was sealed with.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w (key %s; this server holds %s)", ErrUnknownKey, id, s.current)
	}
	hl := 2 + len(id)
	if len(sealed) < hl+nonceSize+aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := aead.Open(nil, sealed[hl:hl+nonceSize], sealed[hl+nonceSize:], additional(sealed[:hl], ad))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// SealedKeyID returns the ID of the key a sealed value was sealed with.
func SealedKeyID(sealed []byte) (string, error) {
	if len(sealed) < 2 || sealed[0] != version || len(sealed) < 2+int(sealed[1]) {
		return "", ErrOpen
	}
	return string(sealed[2 : 2+int(sealed[1])]), nil
}

// additional binds the header to the caller's associated data,
// unambiguously (the header's length is in it).
func additional(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	return append(append(out, header...), ad...)
}

// LoadOrCreate returns the Sealer of a data dir's key file
// (dataDir/keys/state.key), creating the key (32 random bytes, 0600, in a
// 0700 dir) when there is none.
func LoadOrCreate(dataDir string) (*Sealer, error) {
	path := filepath.Join(dataDir, KeyFile)
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return LoadFile(path)
}

func create(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seal: key dir: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("seal: key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("seal: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("seal: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("seal: write key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// checkDir refuses a key dir that group or others can read or write.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("seal: key dir: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("seal: key dir %s has mode %04o: it must be accessible to its owner only (chmod 700)", dir, fi.Mode().Perm())
	}
	return nil
}

// LoadFile returns the Sealer of a key file: 32 raw bytes, or their hex
// (64 digits) or base64 text (as `openssl rand -hex 32` or `-base64 32`
// writes them). The file must be a regular file that group and others
// cannot access (mode 0600 or 0400).
func LoadFile(path string) (*Sealer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: key file %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s has mode %04o: it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	key, err := ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	return New(key)
}

// ParseKey reads a key: 32 raw bytes, 64 hex digits or base64 of 32
// bytes (surrounding white space ignored in the text forms).
func ParseKey(raw []byte) ([]byte, error) {
	if len(raw) == KeySize {
		return raw, nil
	}
	text := strings.TrimSpace(string(raw))
	if k, err := hex.DecodeString(text); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(text); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("not a %d-byte key (raw, hex or base64)", KeySize)
}
