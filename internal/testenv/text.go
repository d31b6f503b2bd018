package testenv

import "strings"

// Indent indents each line of s with a tab, for a command's output inside
// a message; blank output shows as "(empty)".
func Indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return "\t(empty)"
	}
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}

// FirstLine is the first line of s without the white space around s.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// StatusFields parses "Key:\tvalue" lines, the text of /proc/PID/status.
func StatusFields(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}
