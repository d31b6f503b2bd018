// Command floor is the smallest Go program that writes to stdout: the
// bench's floor for GODEBUG=inittrace=1 (the Go runtime's own initialisers
// and package os's, which every Go command pays).
package main

import "os"

func main() {
	if _, err := os.Stdout.WriteString("floor\n"); err != nil {
		os.Exit(1)
	}
}
