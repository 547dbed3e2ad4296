package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	if err != nil || out.Record.AccessKeyID != "AKIAEXAMPLE" || out.Answers.MailFrom != "mail" || out.Schema != Schema {
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

// A file at a state path that is not sesame's state file for that setup
// is refused by Load and Save with advice to move it aside, and Save
// leaves it byte for byte; a state file as sesame has always written it
// loads.
func TestStateFileNotSesamesIsRefused(t *testing.T) {
	const acct, region, domain = "123456789012", "us-east-1", "example.com"
	tests := []struct {
		name string
		// make puts something at path; it returns the bytes to find there afterwards.
		make func(t *testing.T, path string) string
		why  string // a text of the refusal; "" means it is sesame's and loads
	}{
		{"as sesame writes it", func(t *testing.T, path string) string {
			return writeState(t, path, `{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.com","updated_at":"2026-11-27T02:00:00Z","answers":{"domain":"example.com","region":"us-east-1"},"record":{"access_key_id":"AKIAEXAMPLE"}}`)
		}, ""},
		{"another program's JSON", func(t *testing.T, path string) string {
			return writeState(t, path, `{"name":"my app","version":3}`)
		}, "no sesame schema"},
		{"not JSON", func(t *testing.T, path string) string { return writeState(t, path, "{not json") }, "not sesame's JSON"},
		{"another setup's state", func(t *testing.T, path string) string {
			return writeState(t, path, `{"schema":1,"account":"210987654321","region":"us-east-1","domain":"example.com"}`)
		}, "account 210987654321"},
		{"no account", func(t *testing.T, path string) string {
			return writeState(t, path, `{"schema":1,"region":"us-east-1","domain":"example.com"}`)
		}, "names no account"},
		{"too large", func(t *testing.T, path string) string {
			return writeState(t, path, `{"schema":1,"pad":"`+strings.Repeat("x", maxStateSize)+`"}`)
		}, "larger"},
		{"a symbolic link", func(t *testing.T, path string) string {
			target := filepath.Join(t.TempDir(), "elsewhere.json")
			writeState(t, target, `{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.com"}`)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return "link"
		}, "symbolic link"},
		{"a directory", func(t *testing.T, path string) string {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			return "dir"
		}, "not a regular file"},
		{"another user's file", func(t *testing.T, path string) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			data := writeState(t, path, `{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.com"}`)
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return data
		}, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Store{Dir: t.TempDir()}
			path := st.Path(acct, region, domain)
			want := tt.make(t, path)
			sv, err := st.Load(acct, region, domain)
			if tt.why == "" {
				if err != nil || sv == nil || sv.Record.AccessKeyID != "AKIAEXAMPLE" {
					t.Fatalf("Load = %+v, %v; want the saved setup", sv, err)
				}
				if err := st.Save(sv); err != nil {
					t.Fatalf("Save over sesame's own file: %v", err)
				}
				return
			}
			var fe *ForeignError
			if !errors.As(err, &fe) || fe.File != "state file" || fe.Path != path || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "move it aside") {
				t.Fatalf("Load = %v; want a *ForeignError about the state file, saying %q and to move it aside", err, tt.why)
			}
			err = st.Save(&Saved{Account: acct, Region: region, Domain: domain})
			if !errors.As(err, &fe) {
				t.Fatalf("Save = %v; want it refused", err)
			}
			if got := snapshot(t, path); got != want {
				t.Fatalf("the file changed: %q, want %q", got, want)
			}
			if list, _ := st.List(); len(list) != 0 {
				t.Fatalf("List took it for a setup: %+v", list)
			}
		})
	}
}

func writeState(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// snapshot is what path holds: a file's bytes, "link" or "dir".
func snapshot(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		t.Fatal(err)
	case fi.Mode()&os.ModeSymlink != 0:
		return "link"
	case fi.IsDir():
		return "dir"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A lock path holding something sesame did not make is refused, and what
// it points to or shares a name with is never truncated.
func TestLockRefusesWhatIsNotItsLockFile(t *testing.T) {
	const precious = "the operator's file\n"
	tests := []struct {
		name string
		make func(t *testing.T, lock, target string)
		why  string
	}{
		{"symbolic link", func(t *testing.T, lock, target string) {
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"dangling symbolic link", func(t *testing.T, lock, target string) {
			if err := os.Symlink(target+".missing", lock); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"hard link", func(t *testing.T, lock, target string) {
			if err := os.Link(target, lock); err != nil {
				t.Fatal(err)
			}
		}, "hard links"},
		{"another user's file", func(t *testing.T, lock, target string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown")
			}
			writeState(t, lock, precious)
			if err := os.Chown(lock, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lock, target := filepath.Join(dir, "s.json.lock"), filepath.Join(dir, "precious")
			writeState(t, target, precious)
			tt.make(t, lock, target)
			l, err := TryLock(lock)
			var fe *ForeignError
			if !errors.As(err, &fe) || fe.File != "lock file" || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "move it aside") {
				l.Unlock()
				t.Fatalf("TryLock = %v; want it refused saying %q", err, tt.why)
			}
			if got := readAll(t, target); got != precious {
				t.Fatalf("the target now holds %q", got)
			}
			if _, err := os.Stat(target + ".missing"); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a dangling link's target was created")
			}
		})
	}
}

func readAll(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzStateFile puts arbitrary bytes at a state path: Load never panics,
// takes the file only when it is the state of that very setup in a schema
// it knows, and otherwise refuses it (a *ForeignError) while Save leaves it
// byte for byte.
func FuzzStateFile(f *testing.F) {
	for _, s := range []string{
		`{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.com"}`,
		`{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.com","answers":{"out_dir":"/x"},"record":{"access_key_id":"AKIA"}}`,
		`{"schema":2,"account":"123456789012","region":"us-east-1","domain":"example.com"}`,
		`{"schema":1,"account":"123456789012","region":"us-east-1","domain":"example.org"}`,
		`{"schema":1,"account":"../123456789012","region":"us-east-1","domain":"example.com"}`,
		`{"schema":0}`, `{}`, `[]`, `null`, `{"name":"x","version":3}`, "", "{", "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const acct, region, domain = "123456789012", "us-east-1", "example.com"
		st := Store{Dir: t.TempDir()}
		path := st.Path(acct, region, domain)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sv, err := st.Load(acct, region, domain)
		if err == nil {
			if sv == nil || sv.Account != acct || sv.Region != region || sv.Domain != domain || sv.Schema < 1 || sv.Schema > Schema {
				t.Fatalf("Load took %q as the state of %s: %+v", data, path, sv)
			}
			return
		}
		// A later sesame's file is refused too (upgrade), not as foreign.
		var fe *ForeignError
		if !errors.As(err, &fe) && !strings.Contains(err.Error(), "newer than this sesame") {
			t.Fatalf("Load(%q) = %v; want a *ForeignError", data, err)
		}
		if st.Save(&Saved{Account: acct, Region: region, Domain: domain}) == nil {
			t.Fatalf("Save replaced %q, which Load refused", data)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
			t.Fatalf("the refused file changed: %q, want %q", got, data)
		}
	})
}

// The state file sesame wrote at schema 1 (testdata/state-v1, left by a
// finished run of main at ed4e3c8; see cmd/sesame's TestStateFileV1Resumes)
// loads with every answer and id it holds, holds nothing the types do
// not know (so no secret rides along), and saves back to the same data.
func TestStateV1FixtureLoads(t *testing.T) {
	const acct, region, domain = "123456789012", "us-east-1", "example.com"
	const home = "/tmp/fixgen/home"
	dir := t.TempDir()
	for _, name := range []string{"123456789012_us-east-1_example.com.json", "123456789012_us-east-1_example.com.json.lock"} {
		b, err := os.ReadFile(filepath.Join("testdata", "state-v1", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := Store{Dir: dir}
	raw, err := os.ReadFile(st.Path(acct, region, domain))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&Saved{}); err != nil {
		t.Fatalf("the fixture holds a field Saved does not know: %v", err)
	}
	sv, err := st.Load(acct, region, domain)
	if err != nil || sv == nil {
		t.Fatalf("Load = %+v, %v", sv, err)
	}
	const key = "AKIA1OEH4AUR486PYY0O"
	out := home + "/relay-fixture"
	want := Saved{
		Schema: 1, Account: acct, Region: region, Domain: domain,
		UpdatedAt: time.Date(2026, 11, 30, 11, 43, 25, 779343078, time.UTC),
		Answers: Answers{Domain: domain, Region: region, SMTPUser: "ses-smtp-fixture", MailFrom: "mail", MailFromAsked: true,
			DMARC: true, DMARCAsked: true, OutDir: out},
		Record: Record{UserCreated: true, AccessKeyID: key, KeysCreated: []string{key},
			KeyFiles: map[string]string{key: out + "/sasl_passwd"}, IdentityCreated: true,
			ZoneID: "ZDBIV9EEQZPT8FPHORU3Z", ChangeID: "CELRPA29ORC1XPPBHXQX9",
			Files: map[string]string{"apply-postfix.sh": out + "/apply-postfix.sh", "main.cf": out + "/main.cf.snippet", "sasl_passwd": out + "/sasl_passwd"}},
	}
	if !reflect.DeepEqual(*sv, want) {
		t.Fatalf("Load =\n%+v\nwant\n%+v", *sv, want)
	}
	if err := st.Save(sv); err != nil {
		t.Fatalf("Save over the fixture: %v", err)
	}
	back, err := os.ReadFile(st.Path(acct, region, domain))
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("saved again:\n%s\nwant the fixture's bytes:\n%s", back, raw)
	}
}
