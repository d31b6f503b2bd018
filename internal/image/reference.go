package image

import (
	"errors"
	"fmt"
	"strings"
)

// Reference is an image reference in Docker's normalised form: "busybox"
// is {docker.io library/busybox latest ""}. It is parsed here, with the
// grammar of Docker's distribution/reference, rather than by
// go-containerregistry's name package, so that the commands that only read
// the store (run, create, images, rmi, tag) do not link that package and
// go-digest, which compile regular expressions at every start (the build
// tag lean: sealed.ImageName).
type Reference struct {
	Registry   string // "docker.io" for Docker Hub
	Repository string // "library/busybox"
	Tag        string // "" when Digest is set
	Digest     string // "sha256:<64 hex>", or ""
}

// DockerHub is Docker Hub's registry in a normalised reference.
const DockerHub = "docker.io"

// ParseReference parses a reference with Docker's rules: "busybox" is
// docker.io/library/busybox:latest; "repo@sha256:..." names a digest (a
// tag given with a digest is dropped, as Docker pulls by the digest).
func ParseReference(s string) (Reference, error) {
	r, err := parseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("invalid reference %q: %w", s, err)
	}
	return r, nil
}

func parseReference(s string) (Reference, error) {
	var r Reference
	if strings.Contains(s, "://") {
		return r, errors.New("a reference has no URL scheme")
	}
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, r.Digest = rest[:i], rest[i+1:]
		if err := checkDigest(r.Digest); err != nil {
			return r, err
		}
	}
	// A tag is what follows the last ':' after the last '/' (a ':' before
	// a '/' is a registry's port).
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, r.Tag = rest[:i], rest[i+1:]
		if err := checkTag(r.Tag); err != nil {
			return r, err
		}
	}
	if len(rest) > 255 {
		return r, errors.New("a repository name is at most 255 characters")
	}
	r.Registry, r.Repository = DockerHub, rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if first := rest[:i]; first == "localhost" || strings.ContainsAny(first, ".:") || strings.ToLower(first) != first {
			r.Registry, r.Repository = first, rest[i+1:]
			if err := checkRegistry(r.Registry); err != nil {
				return r, err
			}
		}
	}
	if r.Registry == "index.docker.io" {
		r.Registry = DockerHub
	}
	if r.Registry == DockerHub && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	if err := checkRepository(r.Repository); err != nil {
		return r, err
	}
	if r.Digest != "" {
		r.Tag = ""
	} else if r.Tag == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// String is the reference in full, as the store keys it:
// "docker.io/library/busybox:latest", "quay.io/a/b@sha256:...".
func (r Reference) String() string {
	if r.Digest != "" {
		return r.Name() + "@" + r.Digest
	}
	return r.Name() + ":" + r.Tag
}

// Name is the repository with its registry: "docker.io/library/busybox".
func (r Reference) Name() string { return r.Registry + "/" + r.Repository }

// WithDigest is the reference to digest d in r's repository.
func (r Reference) WithDigest(d string) Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository, Digest: d}
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }

// checkRepository: components of lowercase letters and digits, joined by
// '/', each separated inside by '.', '_', "__" or dashes.
func checkRepository(repo string) error {
	if strings.ToLower(repo) != repo {
		return errors.New("repository name must be lowercase")
	}
	for _, comp := range strings.Split(repo, "/") {
		if comp == "" {
			return errors.New("a repository name has an empty component")
		}
		for i := 0; i < len(comp); {
			c := comp[i]
			if isLower(c) || isDigit(c) {
				i++
				continue
			}
			j := i
			for j < len(comp) && comp[j] == '-' {
				j++
			}
			switch {
			case j > i: // one or more dashes
			case strings.HasPrefix(comp[i:], "__"):
				j = i + 2
			case c == '.' || c == '_':
				j = i + 1
			default:
				return fmt.Errorf("repository name: %q is not allowed", c)
			}
			if i == 0 || j == len(comp) || !(isLower(comp[j]) || isDigit(comp[j])) {
				return fmt.Errorf("repository name: %q must stand between letters or digits", comp[i:j])
			}
			i = j
		}
	}
	return nil
}

// checkRegistry: host names of letters, digits and inner dashes joined by
// '.', or a bracketed IPv6 address, then an optional port.
func checkRegistry(reg string) error {
	host, port := reg, ""
	if strings.HasPrefix(reg, "[") {
		end := strings.IndexByte(reg, ']')
		if end < 0 {
			return errors.New("registry: unclosed '['")
		}
		host, port = reg[:end+1], strings.TrimPrefix(reg[end+1:], ":")
		if port == "" && end+1 < len(reg) {
			return errors.New("registry: a port after ':'")
		}
		for _, c := range []byte(host[1:end]) {
			if !(isAlnum(c) || c == ':' || c == '.') {
				return fmt.Errorf("registry: %q in an IPv6 address", c)
			}
		}
	} else {
		if i := strings.IndexByte(reg, ':'); i >= 0 {
			host, port = reg[:i], reg[i+1:]
			if port == "" {
				return errors.New("registry: a port after ':'")
			}
		}
		for _, label := range strings.Split(host, ".") {
			if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
				return fmt.Errorf("registry: bad host name %q", host)
			}
			for _, c := range []byte(label) {
				if !isAlnum(c) && c != '-' {
					return fmt.Errorf("registry: %q in a host name", c)
				}
			}
		}
	}
	for _, c := range []byte(port) {
		if !isDigit(c) {
			return fmt.Errorf("registry: bad port %q", port)
		}
	}
	return nil
}

// checkTag: a word character, then up to 127 word characters, '.' or '-'.
func checkTag(tag string) error {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return fmt.Errorf("bad tag %q", tag)
	}
	for _, c := range []byte(tag) {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("bad tag %q", tag)
		}
	}
	return nil
}

// checkDigest: sha256 (64) or sha512 (128) lowercase hex digits.
func checkDigest(d string) error {
	alg, hex, _ := strings.Cut(d, ":")
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if want == 0 || len(hex) != want {
		return fmt.Errorf("bad digest %q: want sha256:<64 hex digits>", d)
	}
	for _, c := range []byte(hex) {
		if !isDigit(c) && !('a' <= c && c <= 'f') {
			return fmt.Errorf("bad digest %q: want lowercase hex digits", d)
		}
	}
	return nil
}

// ParseTag is ParseReference of a reference that must name a tag.
func ParseTag(s string) (Reference, error) {
	r, err := ParseReference(s)
	if err == nil && r.Digest != "" {
		err = fmt.Errorf("invalid reference %q: a tag, not a digest, is needed", s)
	}
	return r, err
}

// Familiar is a normalized reference as Docker shows it (and writes it in
// an archive's RepoTags): "docker.io/library/busybox:latest" ->
// "busybox:latest", "docker.io/me/app:1" -> "me/app:1"; references to
// other registries are kept whole.
func Familiar(ref string) string {
	for _, p := range []string{"docker.io/library/", "docker.io/"} {
		if rest, ok := strings.CutPrefix(ref, p); ok {
			return rest
		}
	}
	return ref
}
