package vm

import (
	"compress/gzip"
	"fmt"
	"io"
)

// cpioWriter writes a gzip-compressed cpio archive in the "newc" format the
// kernel unpacks as an initramfs.
type cpioWriter struct {
	gz   *gzip.Writer
	ino  uint32
	werr error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{gz: gzip.NewWriter(w), ino: 1}
}

func (c *cpioWriter) entry(name string, mode uint32, major, minor uint32, data []byte) {
	if c.werr != nil {
		return
	}
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.werr == nil {
		_, c.werr = c.gz.Write(b)
	}
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string) { c.entry(name, 0o040000|0o755, 0, 0, nil) }

// File adds a regular file.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	c.entry(name, 0o100000|perm, 0, 0, data)
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, major, minor uint32) {
	c.entry(name, 0o020000|0o600, major, minor, nil)
}

// Close writes the trailer and flushes the compressor.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	if c.werr != nil {
		return c.werr
	}
	return c.gz.Close()
}
