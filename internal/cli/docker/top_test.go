package docker

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePs(t *testing.T) {
	out := `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 12:00 ?        00:00:01 /sbin/init splash
root         100       1  0 12:01 ?        00:00:00 sleep 1000
nobody       101     100  0 12:01 pts/0    00:00:00 sh -c echo  two  spaces
`
	titles, rows, err := parsePs(out, []int{100, 101, 7})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(titles, ",") != "UID,PID,PPID,C,STIME,TTY,TIME,CMD" {
		t.Errorf("titles %q", titles)
	}
	if len(rows) != 2 || rows[0][7] != "sleep 1000" || rows[1][0] != "nobody" || rows[1][7] != "sh -c echo two spaces" {
		t.Errorf("rows %q: want the two pids', the command whole", rows)
	}
	if _, _, err := parsePs("USER COMMAND\nroot x\n", []int{1}); err == nil {
		t.Errorf("ps output without PID: want an error")
	}
	var b bytes.Buffer
	if err := writeTop(&b, titles, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "UID                 PID                 PPID") {
		t.Errorf("writeTop: %q, want Docker's 20-wide columns", b.String())
	}
}
