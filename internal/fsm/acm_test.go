package fsm_test

import (
	"bytes"
	"testing"

	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
)

// A certificate survives a snapshot and restore byte for byte, its key
// still sealed, its tags (with and without values) as they were.
func TestCertificateSnapshotRoundTrip(t *testing.T) {
	m := newMachine()
	const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b"
	for _, c := range []wire.Command{
		wire.ImportCertificate{Meta: at(1), ARN: certARN, Certificate: "leaf", Chain: "chain", SealedKey: []byte{1, 2, 0, 255},
			NotAfter: epoch.AddDate(1, 0, 0), Tags: []wire.ACMTag{{Key: "a", Value: p("1")}, {Key: "b"}}},
		wire.ImportCertificate{Meta: at(2), ARN: certARN, Reimport: true, Certificate: "leaf2", SealedKey: []byte{3}, NotAfter: epoch.AddDate(2, 0, 0)},
	} {
		b, _ := wire.Encode(c)
		if out := m.apply(b); out[:3] != "ok:" {
			t.Fatal(out)
		}
	}
	var first bytes.Buffer
	if err := fsm.Persist(m.m.Snapshot(), &first); err != nil {
		t.Fatal(err)
	}
	store, err := fsm.ReadSnapshot(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := fsm.Persist(store.Snapshot(), &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("snapshot changed across a restore:\n%s\n%s", first.String(), second.String())
	}
	c := store.Snapshot().Certificate(certARN)
	if c == nil || c.CertificatePEM != "leaf2" || c.ChainPEM != "" || !bytes.Equal(c.SealedKey, []byte{3}) || len(c.Tags) != 2 ||
		!c.CreatedAt.Equal(epoch.Add(1e9)) || !c.ImportedAt.Equal(epoch.Add(2e9)) {
		t.Fatalf("restored certificate %+v", c)
	}
}
