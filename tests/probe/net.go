package main

// The network commands: UDP (busybox's nc has no -u) and a TCP
// throughput sender and sink (make bench's throughput rows; busybox has
// no iperf).

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// udpEcho answers each datagram on port with "echo " and the datagram,
// until killed.
func udpEcho(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: probe udp-echo PORT")
	}
	c, err := net.ListenPacket("udp4", ":"+args[0])
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for {
		n, peer, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(append([]byte("echo "), buf[:n]...), peer); err != nil {
			return err
		}
	}
}

// udpAsk sends a datagram to ADDR:PORT and prints the answer.
func udpAsk(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: probe udp-ask ADDR:PORT MSG")
	}
	c, err := net.Dial("udp4", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	for try := 0; try < 3; try++ {
		if _, err := c.Write([]byte(args[1])); err != nil {
			return err
		}
		if err := c.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
			return err
		}
		n, err := c.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Println(string(buf[:n]))
		return nil
	}
	return fmt.Errorf("no answer from %s", args[0])
}

// tcpSink counts the bytes of each connection on port until the sender
// closes its side, answers with the count, and closes.
func tcpSink(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: probe tcp-sink PORT")
	}
	l, err := net.Listen("tcp4", ":"+args[0])
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			fmt.Fprintf(c, "%d\n", n)
		}()
	}
}

// tcpSend writes to a tcp-sink for SECS seconds, closes its side, and
// prints what the sink counted and the time until its answer.
func tcpSend(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: probe tcp-send ADDR:PORT SECS")
	}
	secs, err := strconv.ParseFloat(args[1], 64)
	if err != nil || secs <= 0 {
		return fmt.Errorf("bad SECS %q", args[1])
	}
	c, err := net.Dial("tcp4", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 128<<10)
	t0 := time.Now()
	end := t0.Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(end) {
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the sink's count: %w", err)
	}
	elapsed := time.Since(t0)
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return fmt.Errorf("the sink's count %q: %w", line, err)
	}
	fmt.Printf("bytes %d seconds %.3f\n", n, elapsed.Seconds())
	return nil
}

// gso prints link name's IPv4 GSO and GRO sizes, as the kernel gives
// them (RTM_GETLINK: IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE;
// Linux 6.3), "gso N gro M"; a size the kernel does not give is "none".
// (iproute2 6.1, Debian 12's, does not print them.)
func gso(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: probe gso IFNAME")
	}
	ifi, err := net.InterfaceByName(args[0])
	if err != nil {
		return err
	}
	b, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return fmt.Errorf("RTM_GETLINK: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return fmt.Errorf("RTM_GETLINK: %w", err)
	}
	const ifGSO, ifGRO = 63, 64 // IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		if index := int32(binary.NativeEndian.Uint32(m.Data[4:8])); int(index) != ifi.Index {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return fmt.Errorf("RTM_GETLINK %s: %w", args[0], err)
		}
		size := map[uint16]string{ifGSO: "none", ifGRO: "none"}
		for _, a := range attrs {
			if _, ok := size[a.Attr.Type]; ok && len(a.Value) == 4 {
				size[a.Attr.Type] = strconv.FormatUint(uint64(binary.NativeEndian.Uint32(a.Value)), 10)
			}
		}
		fmt.Printf("gso %s gro %s\n", size[ifGSO], size[ifGRO])
		return nil
	}
	return fmt.Errorf("RTM_GETLINK: no link %s (index %d)", args[0], ifi.Index)
}
