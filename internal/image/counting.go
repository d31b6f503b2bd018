package image

import "io"

// CountingReader counts the bytes read through it: a layer's unpacked
// size, the bytes `cp` copied.
type CountingReader struct {
	R io.Reader
	N int64
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
