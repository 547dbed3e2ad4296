package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStoreRoundTrip(t *testing.T) {
	st := Store{Dir: filepath.Join(t.TempDir(), "state")}
	if sv, err := st.Load("123456789012", "us-east-1", "example.com"); sv != nil || err != nil {
		t.Fatalf("Load of nothing = %v, %v; want nil, nil", sv, err)
	}
	in := &Saved{Account: "123456789012", Region: "us-east-1", Domain: "example.com", UpdatedAt: time.Now().UTC().Truncate(time.Second),
		Answers: Answers{Domain: "example.com", Region: "us-east-1", MailFrom: "mail", MailFromAsked: true},
		Record:  Record{UserCreated: true, AccessKeyID: "AKIAEXAMPLE", KeysCreated: []string{"AKIAEXAMPLE"}}}
	if err := st.Save(in); err != nil {
		t.Fatal(err)
	}
	path := st.Path("123456789012", "us-east-1", "example.com")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(st.Dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode = %v; want 0700", di.Mode().Perm())
	}
	out, err := st.Load("123456789012", "us-east-1", "example.com")
	if err != nil || out.Record.AccessKeyID != "AKIAEXAMPLE" || out.Answers.MailFrom != "mail" || out.Schema != StateSchema {
		t.Fatalf("Load = %+v, %v", out, err)
	}
	found, _ := st.Find("us-east-1", "example.com")
	if len(found) != 1 {
		t.Fatalf("Find = %d setups, want 1", len(found))
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load("123456789012", "us-east-1", "example.com"); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("corrupt state: err = %v, want advice", err)
	}
}

// The mode is exact whatever the umask.
func TestWriteFileAtomicIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "out")
	p, err := WriteSASLPasswd(dir, SASLEntry{Host: "email-smtp.eu-west-1.amazonaws.com", Port: 587, Username: "AKIAEXAMPLE", Password: "BSECRET"})
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Fatalf("modes file %v dir %v; want 0600 and 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	e, err := ReadSASLPasswd(dir)
	if err != nil || e.Host != "email-smtp.eu-west-1.amazonaws.com" || e.Port != 587 || e.Username != "AKIAEXAMPLE" || e.Password.Reveal() != "BSECRET" {
		t.Fatalf("ReadSASLPasswd = %+v, %v", e, err)
	}
	if _, err := ReadSASLPasswd(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrNotExist", err)
	}
}

func TestLockExcludesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.lock")
	l1, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path)
	var el *ErrLocked
	if !errors.As(err, &el) || !strings.Contains(el.Holder, "pid ") {
		t.Fatalf("second TryLock = %v; want ErrLocked naming the holder", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var told bool
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := WaitLock(ctx, path, func(*ErrLocked) { told = true }); !errors.Is(err, context.Canceled) || !told {
		t.Fatalf("WaitLock = %v, told %v; want cancelled after telling who holds it", err, told)
	}
	if err := l1.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := TryLock(path)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	l2.Unlock()
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{&InputError{Field: "domain", Flag: "--domain", Msg: "required"}, 2},
		{ErrNeedsApproval, 2},
		{&PendingError{Step: "verification", Detail: "pending"}, 3},
		{ErrDeclined, 3},
		{context.Canceled, 130},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
