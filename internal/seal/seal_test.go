package seal_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/seal"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

func TestRoundTrip(t *testing.T) {
	s, err := seal.New(key(1))
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("-----BEGIN PRIVATE KEY-----\nsecret\n")
	sealed, err := s.Seal(secret, []byte("arn:1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed form carries the plaintext")
	}
	again, _ := s.Seal(secret, []byte("arn:1"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	got, err := s.Open(sealed, []byte("arn:1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if id, err := seal.SealedKeyID(sealed); err != nil || id != s.KeyID() {
		t.Fatalf("SealedKeyID = %q, %v; want %q", id, err, s.KeyID())
	}
}

func TestTamper(t *testing.T) {
	s, _ := seal.New(key(1))
	sealed, _ := s.Seal([]byte("secret"), []byte("ad"))
	for i := range sealed {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		if _, err := s.Open(c, []byte("ad")); err == nil {
			t.Fatalf("byte %d flipped: opened", i)
		}
	}
	for n := range len(sealed) {
		if _, err := s.Open(sealed[:n], []byte("ad")); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
	if _, err := s.Open(sealed, []byte("other")); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("other associated data: %v, want ErrOpen", err)
	}
}

func TestWrongKeyAndRotation(t *testing.T) {
	old, _ := seal.New(key(1))
	sealed, _ := old.Seal([]byte("secret"), nil)
	other, _ := seal.New(key(2))
	if _, err := other.Open(sealed, nil); !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("other key: %v, want ErrUnknownKey", err)
	}
	if _, err := other.Open(sealed, nil); strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error carries the plaintext: %v", err)
	}
	rotated, _ := seal.New(key(2), key(1))
	if got, err := rotated.Open(sealed, nil); err != nil || string(got) != "secret" {
		t.Fatalf("rotated Open = %q, %v", got, err)
	}
	fresh, _ := rotated.Seal([]byte("x"), nil)
	if id, _ := seal.SealedKeyID(fresh); id != other.KeyID() {
		t.Fatalf("rotated seals with %s, want the current key %s", id, other.KeyID())
	}
	if _, err := seal.New(key(1)[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	s1, err := seal.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, seal.KeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != seal.KeySize {
		t.Fatalf("key file mode %o size %d", fi.Mode().Perm(), fi.Size())
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("key dir mode %o", di.Mode().Perm())
	}
	sealed, _ := s1.Seal([]byte("secret"), nil)
	s2, err := seal.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyID() != s1.KeyID() {
		t.Fatal("a second start made a new key")
	}
	if _, err := s2.Open(sealed, nil); err != nil {
		t.Fatal(err)
	}

	// Looser modes are refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.LoadOrCreate(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("0644 key file: %v", err)
	}
	os.Chmod(path, 0o600)
	os.Chmod(filepath.Dir(path), 0o755)
	if _, err := seal.LoadOrCreate(dir); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("0755 key dir: %v", err)
	}
}

func TestLoadFileForms(t *testing.T) {
	dir := t.TempDir()
	raw := key(7)
	want, _ := seal.New(raw)
	for name, content := range map[string]string{
		"raw":    string(raw),
		"hex":    "0707070707070707070707070707070707070707070707070707070707070707\n",
		"base64": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := seal.LoadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.KeyID() != want.KeyID() {
			t.Fatalf("%s: key ID %s, want %s", name, s.KeyID(), want.KeyID())
		}
	}
	p := filepath.Join(dir, "short")
	os.WriteFile(p, []byte("abc"), 0o600)
	if _, err := seal.LoadFile(p); err == nil {
		t.Fatal("a short key file was accepted")
	}
	p = filepath.Join(dir, "open")
	os.WriteFile(p, raw, 0o640)
	if _, err := seal.LoadFile(p); err == nil {
		t.Fatal("a group-readable key file was accepted")
	}
}
