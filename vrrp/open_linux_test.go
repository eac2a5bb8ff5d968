package vrrp

import (
	"errors"
	"testing"
)

func TestOpenRejectsNegativeNetNS(t *testing.T) {
	_, err := Open([]Config{articleConfig(100)}, &Options{NetNS: -1})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "NetNS" || fe.Value != "-1" {
		t.Fatalf("Open with NetNS -1: error %v, want a FieldError naming NetNS -1", err)
	}
}
