package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/atomicfile"
)

// Credentials is an access key pair.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// CredentialsFile is the name of the root credentials file in a data dir.
const CredentialsFile = "credentials.json"

// Environment variables that set the root credentials.
const (
	EnvRootAccessKeyID     = "BERTH_ROOT_ACCESS_KEY_ID"
	EnvRootSecretAccessKey = "BERTH_ROOT_SECRET_ACCESS_KEY"
)

// RootCredentials returns the root credentials: from the environment when
// both variables are set, else from the data dir's credentials file, else
// newly generated and written there with mode 0600.
func RootCredentials(dataDir string, getenv func(string) string) (Credentials, string, error) {
	id, secret := getenv(EnvRootAccessKeyID), getenv(EnvRootSecretAccessKey)
	switch {
	case id != "" && secret != "":
		return Credentials{AccessKeyID: id, SecretAccessKey: secret}, "environment", nil
	case id != "" || secret != "":
		return Credentials{}, "", fmt.Errorf("set both %s and %s, or neither", EnvRootAccessKeyID, EnvRootSecretAccessKey)
	}
	path := filepath.Join(dataDir, CredentialsFile)
	if c, err := ReadCredentials(path); err == nil {
		return c, path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, "", err
	}
	c := Credentials{AccessKeyID: "AKIA" + randomString(16, upperAlnum), SecretAccessKey: randomString(40, secretChars)}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := atomicfile.Write(path, append(b, '\n'), 0o600, true); err != nil {
		return Credentials{}, "", fmt.Errorf("write credentials: %w", err)
	}
	return c, path, nil
}

// ReadCredentials reads a credentials file.
func ReadCredentials(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("read credentials: %s is not a credentials file", path)
	}
	return c, nil
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
