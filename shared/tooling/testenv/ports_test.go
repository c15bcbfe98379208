package testenv

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The servers a test starts bind their ports after the test picked them,
// so the ports must not come from the kernel's ephemeral range, which it
// hands to outgoing connections in between: CI once failed because
// Evidently found the port `claimrisk up` was given already taken. Nor may
// a port picked for one test be picked for another before it is released.
func TestPickedPortsAreOutsideTheEphemeralRangeAndNotShared(t *testing.T) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skip("the ephemeral range is read from Linux's /proc")
	}
	start, err := strconv.Atoi(strings.Fields(string(data))[0])
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 100 {
		base := FreeBasePort(t, 6)
		_, p, _ := net.SplitHostPort(FreeAddr(t))
		port, _ := strconv.Atoi(p)
		for _, q := range []int{base, base + 5, port} {
			if q >= start {
				t.Fatalf("port %d is in the ephemeral range, from %d", q, start)
			}
		}
		for q := base; q < base+6; q++ {
			if seen[q] {
				t.Fatalf("port %d was handed out twice in one test", q)
			}
			seen[q] = true
		}
		if seen[port] {
			t.Fatalf("port %d was handed out twice in one test", port)
		}
		seen[port] = true
	}
}
