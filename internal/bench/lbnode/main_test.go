package main

import (
	"testing"
	"time"
)

func TestOptionsCheck(t *testing.T) {
	good := options{idle: 60 * time.Second, traffic: 60 * time.Second, settle: 10 * time.Second, httpRate: 20, dnsRate: 10}
	tests := []struct {
		name    string
		change  func(*options)
		nargs   int
		wantErr bool
	}{
		{"defaults", func(*options) {}, 0, false},
		{"quick", func(o *options) { o.idle, o.traffic, o.settle = 10*time.Second, 10*time.Second, 0 }, 0, false},
		{"no DNS", func(o *options) { o.dnsRate = 0 }, 0, false},
		{"argument", func(*options) {}, 1, true},
		{"idle too short", func(o *options) { o.idle = 500 * time.Millisecond }, 0, true},
		{"traffic too short", func(o *options) { o.traffic = 0 }, 0, true},
		{"negative settle", func(o *options) { o.settle = -time.Second }, 0, true},
		{"no HTTP", func(o *options) { o.httpRate = 0 }, 0, true},
		{"HTTP too fast", func(o *options) { o.httpRate = 201 }, 0, true},
		{"negative DNS", func(o *options) { o.dnsRate = -1 }, 0, true},
		{"negative timeout", func(o *options) { o.timeout = -time.Second }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			if err := o.check(tt.nargs); (err != nil) != tt.wantErr {
				t.Errorf("check: %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
