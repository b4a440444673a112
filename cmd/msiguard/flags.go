package main

// What the subcommands share about flags: the Kafka connection flags and
// their conversion into a kafkaio.Cluster, parsing with the MSIGUARD_<NAME>
// environment fallback (MSIGUARD_<COMMAND>_<NAME> for the few flags whose
// meaning differs between commands), and the --help layout.

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/msiguard/msiguard/kafkaio"
)

// connFlags holds the flags that say how to reach the brokers.
type connFlags struct {
	brokers                                                 string
	tls, tlsInsecure                                        bool
	tlsCA, tlsCert, tlsKey, tlsServerName                   string
	saslMechanism, saslUser, saslPassword, saslPasswordFile string
}

// register adds the connection flags to fs.
func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.brokers, "brokers", "", "Kafka bootstrap brokers, host:port[,host:port...]")
	fs.BoolVar(&c.tls, "tls", false, "connect to the brokers with TLS (implied by the other --tls-* flags)")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "PEM file of CA certificates to trust (default: the system's)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM client certificate, for brokers that require one (with --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.tlsServerName, "tls-server-name", "", "name to verify in the broker certificates (default: the host in --brokers)")
	fs.BoolVar(&c.tlsInsecure, "tls-insecure-skip-verify", false, "do not verify the broker certificates (testing only)")
	fs.StringVar(&c.saslMechanism, "sasl-mechanism", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: no SASL)")
	fs.StringVar(&c.saslUser, "sasl-username", "", "SASL username")
	fs.StringVar(&c.saslPassword, "sasl-password", "", "SASL password (visible in ps: prefer --sasl-password-file or MSIGUARD_SASL_PASSWORD)")
	fs.StringVar(&c.saslPasswordFile, "sasl-password-file", "", "file holding the SASL password (a trailing newline is ignored)")
}

// useTLS reports whether any --tls* flag asks for TLS.
func (c *connFlags) useTLS() bool {
	return c.tls || c.tlsCA != "" || c.tlsCert != "" || c.tlsKey != "" || c.tlsInsecure || c.tlsServerName != ""
}

// securityFlagsSet names the TLS and SASL flags that have a value.
func (c *connFlags) securityFlagsSet() []string {
	var names []string
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"tls", c.tls}, {"tls-ca", c.tlsCA != ""}, {"tls-cert", c.tlsCert != ""}, {"tls-key", c.tlsKey != ""},
		{"tls-server-name", c.tlsServerName != ""}, {"tls-insecure-skip-verify", c.tlsInsecure},
		{"sasl-mechanism", c.saslMechanism != ""}, {"sasl-username", c.saslUser != ""},
		{"sasl-password", c.saslPassword != ""}, {"sasl-password-file", c.saslPasswordFile != ""},
	} {
		if s.set {
			names = append(names, s.name)
		}
	}
	return names
}

// cluster builds the broker connection settings, reading the files the
// flags name, and validates them. Every error is a usage error; none shows
// the password. log, when not nil, gets a warning about insecure settings.
func (c *connFlags) cluster(log *slog.Logger) (*kafkaio.Cluster, error) {
	cl := &kafkaio.Cluster{SASL: kafkaio.SASL{Mechanism: strings.ToLower(c.saslMechanism), Username: c.saslUser}}
	for _, b := range strings.Split(c.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cl.Brokers = append(cl.Brokers, b)
		}
	}
	switch {
	case c.saslPasswordFile != "":
		if c.saslPassword != "" {
			return nil, fmt.Errorf("%w: give the SASL password once: --sasl-password-file or --sasl-password (MSIGUARD_SASL_PASSWORD)", errUsage)
		}
		b, err := os.ReadFile(c.saslPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --sasl-password-file: %w", errUsage, err)
		}
		cl.SASL.Password = strings.TrimRight(string(b), "\r\n")
	case c.saslPassword != "":
		cl.SASL.Password = c.saslPassword
	}
	if c.useTLS() {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		cl.TLS = tc
	}
	if err := cl.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if log != nil {
		if c.tlsInsecure {
			log.Warn("TLS certificate verification is disabled (--tls-insecure-skip-verify): use it for testing only")
		} else if cl.TLS == nil && cl.SASL.Mechanism != "" {
			log.Warn("SASL without TLS: credentials and records cross the network in clear text; add --tls")
		}
	}
	return cl, nil
}

func (c *connFlags) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.tlsServerName, InsecureSkipVerify: c.tlsInsecure}
	if c.tlsCA != "" {
		pem, err := os.ReadFile(c.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-ca: %w", errUsage, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --tls-ca %s holds no PEM certificate", errUsage, c.tlsCA)
		}
		tc.RootCAs = pool
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if c.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-cert/--tls-key: %w", errUsage, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// cmdHelp is what a command's --help and its flag errors say.
type cmdHelp struct {
	// name is the command, as in "msiguard NAME --help".
	name string
	// intro is printed before the flags: the usage line(s) and what the
	// command does, ending in "Flags:".
	intro string
	// examples is printed after the flags.
	examples string
	// argHint says what to do instead of a stray argument (default: flags
	// start with --).
	argHint string
	// hides lists, for a flag given on the command line, the flags whose
	// variables are then not read: a destination on the command line wins
	// over another kind of destination from the environment.
	hides map[string][]string
	// cmdLineOnly lists flags that have no environment variable, for a
	// reason the command's help states (backtest's --alerts-topic: the
	// variable set up for run names the live alerts topic).
	cmdLineOnly []string
	// scoped lists flags whose meaning differs from one command to another
	// (gen's --out is the records written, backtest's the alerts): their
	// variable names the command, MSIGUARD_<COMMAND>_<FLAG>, so that one
	// set for a command cannot redirect another (and flags whose bare
	// name says too little: healthcheck's --addr). The unscoped name of a
	// flag in retiredEnv is refused with a sentence naming the new one.
	scoped []string
}

// dependentDefaults says, for a flag whose default depends on other flags,
// what help and errors print instead of the value its flag holds.
var dependentDefaults = map[string]string{
	"restore-lookback": "1h or twice --retain plus 1m, whichever is longer", // stream.Config.withDefaults
}

// defaultText is the default of fl as help and errors print it.
func defaultText(fl *flag.Flag) string {
	return cmp.Or(dependentDefaults[fl.Name], fl.DefValue)
}

// retiredEnv lists the flags whose unscoped variable (MSIGUARD_OUT,
// MSIGUARD_PARTITIONS) was once read by several commands with different
// meanings: it is refused, with the scoped name, rather than ignored.
var retiredEnv = []string{"out", "partitions"}

// envVar returns the environment variable of a flag shared by every
// command that has it: MSIGUARD_ and the flag's name.
func envVar(flagName string) string {
	return "MSIGUARD_" + envSuffix(flagName)
}

func envSuffix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envVar returns the environment variable of the command's flag, "" for a
// flag that has none.
func (h *cmdHelp) envVar(flagName string) string {
	switch {
	case slices.Contains(h.cmdLineOnly, flagName):
		return ""
	case slices.Contains(h.scoped, flagName):
		return "MSIGUARD_" + envSuffix(h.name) + "_" + envSuffix(flagName)
	}
	return envVar(flagName)
}

// flagError rewrites an error of the flag package so that it names the
// flag with two dashes, as the help does, and says what a value of that
// flag looks like.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	for _, p := range []struct{ re, repl string }{
		{`^flag provided but not defined: -+(\S+)$`, "unknown flag --$1"},
		{`^flag needs an argument: -+(\S+)$`, "--$1 needs a value"},
		{`^invalid value ("[^"]*") for flag -+([^:\s]+): (.*)$`, "--$2 $1: $3"},
		{`^invalid boolean value ("[^"]*") for -+([^:\s]+): (.*)$`, "--$2 $1: want true or false"},
	} {
		re := regexp.MustCompile(p.re)
		if re.MatchString(msg) {
			msg = re.ReplaceAllString(msg, p.repl)
			break
		}
	}
	if i := strings.Index(msg, ": parse error"); i >= 0 {
		name := strings.TrimPrefix(strings.Fields(msg)[0], "--")
		msg = msg[:i] + ": " + valueHint(fs.Lookup(name))
	}
	return msg
}

// valueHint says what a valid value of fl looks like.
func valueHint(fl *flag.Flag) string {
	if fl == nil {
		return "invalid value"
	}
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return "invalid value"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration such as 500ms, 2s, 10m or 1h30m"
	case int, int64, uint, uint64:
		return "want a whole number"
	case float64:
		return "want a number"
	case bool:
		return "want true or false"
	}
	return "invalid value"
}

// positiveFlags returns a usage error naming the first of the named
// duration or integer flags of fs whose value is zero or negative, with
// the value and the default: in every command such a flag takes a positive
// value, and 0 is never a silent stand-in for the default.
func positiveFlags(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		fl := fs.Lookup(n)
		if fl == nil {
			panic("positiveFlags: no flag --" + n)
		}
		var bad bool
		switch v := fl.Value.(flag.Getter).Get().(type) {
		case time.Duration:
			bad = v <= 0
		case int:
			bad = v <= 0
		case int64:
			bad = v <= 0
		default:
			panic("positiveFlags: --" + n + " is neither a duration nor an integer")
		}
		if bad {
			return fmt.Errorf("%w: --%s %s: must be positive (default %s)", errUsage, n, fl.Value, defaultText(fl))
		}
	}
	return nil
}

// parseFlags parses args into fs, then sets every flag not given on the
// command line (nor hidden by one, see cmdHelp.hides) from its
// MSIGUARD_<NAME> variable, read with lookupEnv (os.LookupEnv if nil). On
// --help it prints the help to stdout and returns flag.ErrHelp (run, in
// main.go, then exits 0); other
// errors are usage errors. It returns the names of the flags given on the
// command line and of those set from the environment.
func parseFlags(fs *flag.FlagSet, h *cmdHelp, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (given, fromEnv map[string]bool, err error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs, h)
			return nil, nil, flag.ErrHelp
		}
		return nil, nil, fmt.Errorf("%w: %s (see msiguard %s --help)", errUsage, flagError(fs, err), h.name)
	}
	if fs.NArg() > 0 {
		hint := h.argHint
		if hint == "" {
			hint = "flags start with --"
		}
		return nil, nil, fmt.Errorf("%w: unexpected argument %q (%s; see msiguard %s --help)", errUsage, fs.Arg(0), hint, h.name)
	}
	given, fromEnv = map[string]bool{}, map[string]bool{}
	skip := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) {
		given[fl.Name], skip[fl.Name] = true, true
		for _, n := range h.hides[fl.Name] {
			skip[n] = true
		}
	})
	fs.VisitAll(func(fl *flag.Flag) {
		name := h.envVar(fl.Name)
		if err != nil || skip[fl.Name] || name == "" {
			return
		}
		if slices.Contains(h.scoped, fl.Name) && slices.Contains(retiredEnv, fl.Name) {
			if _, ok := lookupEnv(envVar(fl.Name)); ok {
				err = fmt.Errorf("%w: %s is not read: it meant different things to different commands; for msiguard %s set %s instead",
					errUsage, envVar(fl.Name), h.name, name)
				return
			}
		}
		v, ok := lookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			shown := v
			if strings.Contains(fl.Name, "password") {
				shown = "(masked)"
			}
			why := e.Error()
			if why == "parse error" || strings.Contains(why, "invalid syntax") {
				why = valueHint(fl)
			}
			err = fmt.Errorf("%w: %s=%s is not a valid value for --%s: %s", errUsage, name, shown, fl.Name, why)
			return
		}
		fromEnv[fl.Name] = true
	})
	return given, fromEnv, err
}

// printUsage prints a command's help: h.intro, the flags in alphabetical
// order, each with its variable, usage and default, then h.examples.
func printUsage(w io.Writer, fs *flag.FlagSet, h *cmdHelp) {
	fmt.Fprintln(w, h.intro)
	var lines []string
	fs.VisitAll(func(fl *flag.Flag) {
		def := ""
		switch fl.DefValue {
		case "", "0", "0s", "false":
		default:
			def = fmt.Sprintf(" (default %s)", defaultText(fl))
		}
		_, usage := flag.UnquoteUsage(fl)
		env := h.envVar(fl.Name)
		if env == "" {
			env = "command line only"
		}
		lines = append(lines, fmt.Sprintf("  --%s  [%s]\n      %s%s", fl.Name, env, usage, def))
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
	fmt.Fprintln(w, "\nThe environment variable of each flag is in brackets: MSIGUARD_ and the flag name")
	fmt.Fprintln(w, "in upper case with '-' as '_', or MSIGUARD_<COMMAND>_<FLAG> for a flag that means")
	fmt.Fprintln(w, "something else in another command. A flag given on the command line overrides it.")
	fmt.Fprintln(w)
	fmt.Fprint(w, h.examples)
}
