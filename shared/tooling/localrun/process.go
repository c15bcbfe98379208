package localrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a child process the runtime started.
type Process struct {
	Name    string
	URL     string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Spec describes a process to start.
type Spec struct {
	Name string
	Path string
	Args []string
	Env  []string // added to the parent's environment
	// Addr is host:port the process listens on.
	Addr string
	// Ready is the path polled until it answers 200.
	Ready string
	// Timeout bounds the wait for readiness.
	Timeout time.Duration
}

// ErrPortInUse marks a port something else already listens on.
var ErrPortInUse = errors.New("localrun: port in use")

// CheckFree fails when something already listens on addr.
func CheckFree(name, addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		c.Close()
		return fmt.Errorf("%w: %s cannot listen on %s because something already does (another 'claimrisk up'? stop it, or pick other ports)", ErrPortInUse, name, addr)
	}
	return nil
}

// StartProcess launches the process, logging to logDir/<name>.log, and waits
// until its readiness path answers 200.
func StartProcess(ctx context.Context, s Spec, logDir string) (*Process, error) {
	if err := CheckFree(s.Name, s.Addr); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("localrun: %s: %w", s.Name, err)
	}
	logPath := filepath.Join(logDir, s.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("localrun: %s: %w", s.Name, err)
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us, and we stop the group
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("localrun: start %s (%s): %w", s.Name, s.Path, err)
	}
	p := &Process{Name: s.Name, URL: "http://" + s.Addr, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := p.waitReady(ctx, s.Ready, timeout); err != nil {
		p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.done:
			return fmt.Errorf("localrun: %s exited before it was ready (%v); its log says: %s", p.Name, p.err, tail(p.LogPath, 400))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(p.URL + path)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localrun: %s was not ready at %s%s after %s; the end of %s says: %s", p.Name, p.URL, path, timeout, p.LogPath, tail(p.LogPath, 600))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop sends SIGTERM to the process group and waits up to grace before
// killing it.
func (p *Process) Stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Done is closed when the process exits.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the exit error once Done is closed.
func (p *Process) Err() error { return p.err }

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	s := strings.TrimSpace(string(data))
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }
