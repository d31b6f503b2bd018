package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// EditConfig rewrites the config.json of the bundle in dir through edit.
func EditConfig(dir string, edit func(*specs.Spec)) error {
	p := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	edit(&s)
	if data, err = json.Marshal(&s); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return os.WriteFile(p, data, 0o644)
}
