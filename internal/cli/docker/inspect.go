package docker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/minimal-docker/minimal-docker/internal/image"
	"github.com/minimal-docker/minimal-docker/internal/store"
)

func newInspectCmd(g *globals, st Streams) *cobra.Command {
	var kind, format string
	c := &cobra.Command{
		Use:   "inspect [--type container|image] NAME|ID [NAME|ID...]",
		Short: "Display detailed information on containers or images",
		Long: "Print a JSON array with an object per container (its record, with Docker's\n" +
			"field names: Id, Name, State, Config, HostConfig, Mounts, ...) or image (as\n" +
			"image inspect prints it). A name is looked up among the containers first,\n" +
			"then the images, as Docker's inspect does. One that is neither is reported\n" +
			"on stderr; the others are printed and the command exits 1. -f TEMPLATE\n" +
			"prints a line per object instead: the Go template run on the JSON that\n" +
			"inspect prints ({{.State.Status}}, {{.Name}}, {{json .Config}}).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if kind != "" && kind != "container" && kind != "image" {
				return dockerError(fmt.Errorf("invalid --type %q: want container or image", kind))
			}
			return inspect(g, st, args, kind, format)
		},
	}
	c.Flags().StringVar(&kind, "type", "", "only look NAME up as a container or as an image")
	c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
	return c
}

// newContainerInspectCmd is `container inspect`: containers only.
func newContainerInspectCmd(g *globals, st Streams) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [-f TEMPLATE] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return inspect(g, st, args, "container", format)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
	return c
}

// inspect prints the objects args name, as containers or images (kind
// "" for either, a container first): a JSON array, or with format a line
// per object.
func inspect(g *globals, st Streams, args []string, kind, format string) error {
	if format != "" { // a bad template fails before any lookup
		if _, err := parseInspectTemplate(format); err != nil {
			return dockerError(err)
		}
	}
	ctrs, err := g.containers()
	if err != nil {
		return dockerError(err)
	}
	out := []any{}
	failed := false
	for _, ref := range args {
		obj, err := inspectOne(g, ctrs, ref, kind)
		if err != nil {
			fmt.Fprintf(st.Err, "Error: %v\n", err)
			failed = true
			continue
		}
		out = append(out, obj)
	}
	if err := printInspected(st.Out, out, format); err != nil {
		return dockerError(err)
	}
	if failed {
		return exitOne
	}
	return nil
}

// printInspected prints objects as every inspect does (containers and images, networks): a JSON array, or with
// format a line per object.
func printInspected(w io.Writer, objs []any, format string) error {
	if format != "" {
		tmpl, err := parseInspectTemplate(format)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := printTemplate(w, tmpl, o); err != nil {
				return err
			}
		}
		return nil
	}
	b, err := json.MarshalIndent(objs, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// inspectOne is the container or image ref names; Docker's "No such
// object" (container, or an image too) when none.
func inspectOne(g *globals, ctrs *store.Store, ref, kind string) (any, error) {
	if kind != "image" {
		c, err := ctrs.Get(ref)
		if err == nil {
			c.NetworkSettings = networkSettings(g, c)
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if kind == "container" {
			return nil, fmt.Errorf("No such container: %s", ref)
		}
	}
	images, err := g.images()
	if err != nil {
		return nil, err
	}
	img, err := inspectImage(images, ref)
	if err != nil {
		if !errors.Is(err, image.ErrNotFound) {
			return nil, err
		}
		if kind == "image" {
			return nil, fmt.Errorf("No such image: %s", ref)
		}
		return nil, fmt.Errorf("No such object: %s", ref)
	}
	return img, nil
}

// parseInspectTemplate parses inspect's -f TEMPLATE.
func parseInspectTemplate(format string) (*template.Template, error) {
	tmpl, err := template.New("").Funcs(templateFuncs()).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return tmpl, nil
}

// printTemplate runs tmpl on obj as the Docker CLI's inspect -f does: on
// obj's JSON decoded again (so the fields are the JSON's, times are
// RFC 3339 strings and numbers print as written), a missing key an error;
// then a newline.
func printTemplate(w io.Writer, tmpl *template.Template, obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := tmpl.Option("missingkey=error").Execute(&out, raw); err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}
