package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultCacheDir keeps the compiled programs. /run is a tmpfs on most
// hosts: the cache goes at reboot, and with it the programs of a
// compiler since replaced (which is in the key anyway). It is
// beside the state root /run/minimal-docker, not in it, where it would be
// listed as a container. Its files are small (8 KiB for Docker's profile)
// and never pruned: one per distinct profile.
const DefaultCacheDir = "/run/minimal-docker-seccomp"

// EnvCacheDir names an environment variable that, when set, replaces
// DefaultCacheDir (the test suites point it into their temporary
// directories, so that they leave no cache behind).
const EnvCacheDir = "MINIMAL_DOCKER_SECCOMP_CACHE"

// keyFormat changes whenever what a key covers or a file's layout does.
const keyFormat = "minimal-docker seccomp cache 2"

// Cache compiles profiles and keeps each program in Dir under a key: the
// SHA-256 of the profile, the compiler (libseccomp's version in a cgo
// binary; in the pure-Go runtimes, minimal-docker-helper's path, inode,
// size and mtime: its libseccomp is linked in) and GOARCH. A file holds
// the program, the syscall names libseccomp did not know (each followed
// by a newline), the program's length (u32, little-endian) and the
// SHA-256 of all that; it is written to a temporary file and renamed into
// place, so a reader sees a whole file or none; a file that fails its
// checksum is compiled again and replaced. Dir is used only when
// nobody but this user can write to it.
type Cache struct {
	Dir string
	// compiler compiles and names itself in the key: libseccomp, in this
	// binary or in minimal-docker-helper (tests count compilations
	// through their own).
	compiler
}

// NewCache returns a cache in dir (when empty: $MINIMAL_DOCKER_SECCOMP_CACHE,
// or DefaultCacheDir).
func NewCache(dir string) *Cache {
	if dir == "" {
		dir = os.Getenv(EnvCacheDir)
	}
	if dir == "" {
		dir = DefaultCacheDir
	}
	return &Cache{Dir: dir, compiler: newCompiler()}
}

// Result is a filter and where it came from.
type Result struct {
	Filter *Filter
	// Cached: read from the cache, not compiled.
	Cached bool
	// Key names the program in the cache.
	Key string
	// Path is the cache file read (Cached) or written; "" when the
	// compiled program could not be kept (CacheErr).
	Path string
	// Compiler names what compiled the program now ("libseccomp 2.5.4 in
	// this binary", "libseccomp in /usr/bin/minimal-docker-helper"); ""
	// when Cached.
	Compiler string
	// Unknown lists the profile's syscall names that libseccomp did not
	// know when it compiled the program (kept in the cache file): no rule
	// of the filter matches them.
	Unknown []string
	// CacheErr, when set, is why a compiled program could not be kept (a
	// read-only or foreign cache directory): the filter is good, the next
	// run compiles again.
	CacheErr error
}

// Filter returns p's filter: from the cache when it holds the program,
// compiled (and cached) otherwise. An invalid profile is an error naming
// the field, cached or not; so is any profile when there is no compiler
// (no libseccomp in this binary and no minimal-docker-helper beside it).
func (c *Cache) Filter(p *specs.LinuxSeccomp) (Result, error) {
	if p == nil {
		return Result{}, errors.New("linux.seccomp: no profile")
	}
	if c.compile == nil {
		if c.err != nil {
			return Result{}, c.err
		}
		return Result{}, ErrNoCompiler
	}
	fl, err := check(p)
	if err != nil {
		return Result{}, err
	}
	key := c.Key(p)
	path := filepath.Join(c.Dir, key+".bpf")
	// A directory someone else could write to might hold a planted, weaker
	// program: then the cache is neither read nor written.
	trustErr := trusted(c.Dir)
	if trustErr == nil {
		if prog, unknown, ok := readProgram(path); ok {
			return Result{Filter: &Filter{Program: prog, Flags: fl}, Cached: true, Key: key, Path: path, Unknown: unknown}, nil
		}
	}
	prog, unknown, err := c.compile(p)
	if err != nil {
		return Result{}, err
	}
	if len(prog) == 0 || len(prog)%sockFilterSize != 0 || len(prog)/sockFilterSize > bpfMaxInsns {
		return Result{}, fmt.Errorf("linux.seccomp: the compiled filter has %d bytes: want 1 to %d instructions of %d bytes", len(prog), bpfMaxInsns, sockFilterSize)
	}
	r := Result{Filter: &Filter{Program: prog, Flags: fl}, Key: key, Compiler: c.name, Unknown: unknown, CacheErr: trustErr}
	if errors.Is(trustErr, fs.ErrNotExist) {
		r.CacheErr = nil // made below, as it should be
	}
	if r.CacheErr == nil {
		r.CacheErr = writeProgram(c.Dir, path, prog, unknown)
	}
	if r.CacheErr == nil {
		r.Path = path
	}
	return r, nil
}

// trusted checks that only this user can change dir: it is a directory
// (not a symlink) owned by the effective uid, writable by no group or
// other. A missing dir is fs.ErrNotExist.
func trusted(dir string) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return &fs.PathError{Op: "seccomp cache", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
		return fmt.Errorf("seccomp cache %s: not used: want a directory owned by uid %d and writable by nobody else (it is uid %d, mode %#o)",
			dir, os.Geteuid(), st.Uid, st.Mode)
	}
	return nil
}

// Key is the cache key of p: hex SHA-256 over the key format, the
// compiler's version, GOARCH and p in canonical form (appendProfile).
func (c *Cache) Key(p *specs.LinuxSeccomp) string {
	b := make([]byte, 0, 16<<10) // Docker's profile takes 8 KiB
	b = appendStr(b, keyFormat)
	b = appendStr(b, c.version)
	b = appendStr(b, runtime.GOARCH)
	sum := sha256.Sum256(appendProfile(b, p))
	return hex.EncodeToString(sum[:])
}

// appendProfile appends p in canonical form: every field in a fixed
// order, each string and list with its length first, each optional number
// with a presence byte, so that equal profiles give equal bytes and
// different ones different bytes. It is what the key hashes; written by
// hand because encoding/json costs several times as much (reflection, on
// every run). TestCanonicalCoversEveryField fails when runtime-spec adds a
// field.
func appendProfile(b []byte, p *specs.LinuxSeccomp) []byte {
	b = appendStr(b, string(p.DefaultAction))
	b = appendOpt(b, p.DefaultErrnoRet)
	b = binary.AppendUvarint(b, uint64(len(p.Architectures)))
	for _, a := range p.Architectures {
		b = appendStr(b, string(a))
	}
	b = binary.AppendUvarint(b, uint64(len(p.Flags)))
	for _, f := range p.Flags {
		b = appendStr(b, string(f))
	}
	b = appendStr(b, p.ListenerPath)
	b = appendStr(b, p.ListenerMetadata)
	b = binary.AppendUvarint(b, uint64(len(p.Syscalls)))
	for _, sc := range p.Syscalls {
		b = binary.AppendUvarint(b, uint64(len(sc.Names)))
		for _, n := range sc.Names {
			b = appendStr(b, n)
		}
		b = appendStr(b, string(sc.Action))
		b = appendOpt(b, sc.ErrnoRet)
		b = binary.AppendUvarint(b, uint64(len(sc.Args)))
		for _, a := range sc.Args {
			b = binary.AppendUvarint(b, uint64(a.Index))
			b = binary.AppendUvarint(b, a.Value)
			b = binary.AppendUvarint(b, a.ValueTwo)
			b = appendStr(b, string(a.Op))
		}
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendOpt(b []byte, v *uint) []byte {
	if v == nil {
		return append(b, 0)
	}
	return binary.AppendUvarint(append(b, 1), uint64(*v))
}

// Compile compiles p without the cache, with the libseccomp in this
// binary (minimal-docker-helper's job).
func Compile(p *specs.LinuxSeccomp) (*Filter, error) {
	if compileBPF == nil {
		return nil, ErrNoCompiler
	}
	fl, err := check(p)
	if err != nil {
		return nil, err
	}
	prog, _, err := compileBPF(p)
	if err != nil {
		return nil, err
	}
	return &Filter{Program: prog, Flags: fl}, nil
}

// readProgram reads a cached program and the syscall names its compiler
// did not know; ok is false when there is none or it fails its checksum.
// Raw system calls: os.ReadFile would also try to register the file with
// the poller, on every run.
func readProgram(path string) (prog []byte, unknown []string, ok bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Size <= 4+sha256.Size || st.Size > maxFile {
		return nil, nil, false
	}
	b := make([]byte, st.Size)
	if n, err := unix.Read(fd, b); err != nil || n != len(b) {
		return nil, nil, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(body[len(body)-4:])
	body = body[:len(body)-4]
	if n == 0 || n%sockFilterSize != 0 || uint64(n) > uint64(len(body)) {
		return nil, nil, false
	}
	if names := body[n:]; len(names) > 0 {
		unknown = strings.Fields(string(names))
	}
	return body[:n], unknown, true
}

// maxFile is the largest cache file: the longest program, the names
// libseccomp did not know (a profile's worth), the length and the
// checksum.
const maxFile = bpfMaxInsns*sockFilterSize + 1<<20 + 4 + sha256.Size

// writeProgram writes prog, the names unknown, prog's length and their
// checksum to path atomically.
func writeProgram(dir, path string, prog []byte, unknown []string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("seccomp cache: %w", err)
	}
	b := append([]byte(nil), prog...)
	for _, name := range unknown {
		b = append(append(b, name...), '\n')
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(prog)))
	sum := sha256.Sum256(b)
	_, err = f.Write(append(b, sum[:]...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("seccomp cache: %w", err)
	}
	return nil
}
