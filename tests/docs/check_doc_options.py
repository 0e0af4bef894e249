#!/usr/bin/env python3
"""Check that what the documentation names exists.

Reads docs/*.md, docs/*.8 and README.md of the source tree and checks:

- every command-line option written in backticks, in a shell code block (Markdown) or in
  bold/italic markup (manual pages) against the options of the program it is given to:
  xvsadm, xvs-control, xvs-dataplane, xvs-rs-decap, xvs-bench. A program's options are what
  its `--help` prints (the binary given with --bin NAME=PATH); for xvsadm, also the popt
  table in xvsadm/xvsadm_parse.c (its --help is ipvsadm's text). A program not built here
  (no DPDK, no BPF toolchain) is read from its option table in the source instead. An option
  written with no program before it (`--fresh-conns`) must be an option of one of them;
  a manual page's bare options must be its own program's. xvs-rs-decap's commands
  (attach, detach, stats) are checked the same way;
- the keys of the [dataplane], [port], [routes] and [neighbours] sections named in
  docs/dataplane-config.md's sample and, in any document, written as `key = value`, against
  the keys dataplane/dp_config.c compares (`!strcmp(k, "...")`);
- the API endpoints (/v1/...) against the routes of control/ctl_api.c;
- the other way round, that every long option xvs-control's and xvs-dataplane's --help
  prints is in its manual page (docs/PROGRAM.8).

Usage: check_doc_options.py --src SRCDIR [--bin NAME=PATH ...] [FILE ...]
  FILE: documents to read instead of SRCDIR's (the check's own test gives it a bad copy).
Exits 1 with one line per unknown name (FILE:LINE: what), 0 when all exist.
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

PROGRAMS = ("xvsadm", "xvs-control", "xvs-dataplane", "xvs-rs-decap", "xvs-bench")

# Where each program's option table is, for a program that is not built here.
SOURCES = {
    "xvsadm": "xvsadm/xvsadm_parse.c",
    "xvs-control": "control/xvs_control.c",
    "xvs-dataplane": "dataplane/xvs_dataplane.c",
    "xvs-rs-decap": "bpf/rs_decap_main.c",
    "xvs-bench": "bench/bench_opts.c",
}

# Programs whose help names commands (first non-option word).
COMMANDS = {"xvs-rs-decap": {"attach", "detach", "stats"}}

# Names a document may give that are not options of ours; each with its reason.
# (Options written after another program's name, `iptables ... -j MARK`, are that program's
# and not checked; these are the ones the documents write on their own.)
ALLOW = {
    "--foo",               # xvsadm.md: the example of popt's "unknown option" message
    "-jobs",               # fuzzing.md: libFuzzer's
    "-P",                  # keepalived.md, testing-e2e.md: keepalived's and BIRD's
    "--min-cpu", "--merged",  # performance.md: scripts/bench-plot.py's
    "--keep",              # scripts/demo.sh --keep
    "--max-time",          # testing-e2e.md: curl's
    "--benchmark",         # performance.md: meson test's
    "-march", "-fsanitize",  # the compiler's
    "--suite",             # scripts/test.sh's and meson test's
    "--buildtype",         # meson setup's
    "--no-pci", "--file-prefix", "--lcores",  # DPDK EAL's, where xvs says what it gives EAL
}

# meson's own options, given as -DNAME=VALUE next to meson_options.txt's.
MESON_BUILTIN = {"b_sanitize", "buildtype", "debug", "optimization", "prefix", "werror",
                 "b_lto", "b_ndebug", "b_coverage", "warning_level", "sbindir"}

# Markdown code blocks in these languages hold no command lines.
NOT_SHELL = {"ini", "json", "c", "promql", "yaml", "text", "diff"}

OPT_RE = re.compile(r"^(--?[A-Za-z0-9][A-Za-z0-9_-]*)")


def help_options(path):
    """Options and words that `path --help` prints."""
    try:
        p = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.exit("check_doc_options: %s --help: %s" % (path, e))
    text = p.stdout + p.stderr
    if not text.strip():
        sys.exit("check_doc_options: %s --help printed nothing" % path)
    opts = set(re.findall(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9-]*)", text))
    opts |= set(re.findall(r"(?<![\w-])(-[A-Za-z0-9?])(?![\w-])", text))
    return opts


def source_options(src, prog):
    """Options in prog's getopt_long or popt table."""
    text = open(os.path.join(src, SOURCES[prog])).read()
    opts = set()
    for long_name, short in re.findall(
            r'\{\s*"([a-z0-9][a-z0-9-]*)",\s*(\'.\'|\'\\0\'|[a-z_]+_argument)', text):
        opts.add("--" + long_name)
        if short.startswith("'") and short != "'\\0'":
            opts.add("-" + short[1])
    for shorts in re.findall(r'getopt_long\([^,]+,[^,]+,\s*"([^"]*)"', text):
        opts |= {"-" + c for c in shorts if c != ":"}
    if "POPT_AUTOHELP" in text:
        opts |= {"--help", "-?", "--usage"}
    return opts


def known_options(src, bins):
    known = {}
    for prog in PROGRAMS:
        opts = set()
        if prog in bins:
            opts |= help_options(bins[prog])
        if prog not in bins or prog == "xvsadm":
            opts |= source_options(src, prog)
        opts |= {"--help", "-h"}
        known[prog] = opts
    return known


def config_keys(src):
    """Keys per section kind, from dp_config.c's set_dataplane, set_port and on_key."""
    text = open(os.path.join(src, "dataplane/dp_config.c")).read()
    keys = {}
    for func, kind in (("set_dataplane", "dataplane"), ("set_port", "port")):
        m = re.search(r"\n(?:static )?int %s\([^)]*\)\n\{(.*?)\n\}\n" % func, text, re.S)
        if not m:
            sys.exit("check_doc_options: no %s() in dataplane/dp_config.c" % func)
        keys[kind] = set(re.findall(r'strcmp\(k, "([a-z0-9_]+)"\)', m.group(1)))
    m = re.search(r"\nstatic int on_key\([^)]*\)\n\{(.*?)\n\}\n", text, re.S)
    if not m:
        sys.exit("check_doc_options: no on_key() in dataplane/dp_config.c")
    for section, key in re.findall(r'strcmp\(section, "([a-z]+)"\) && !strcmp\(k, "([a-z]+)"\)',
                                   m.group(1)):
        keys[section] = {key}
    return keys


def api_routes(src):
    text = open(os.path.join(src, "control/ctl_api.c")).read()
    return set(re.findall(r'strcmp\(url, "(/v1/[a-z0-9_/]+)"\)', text))


def shell_words(s):
    try:
        return shlex.split(s, comments=True)
    except ValueError:
        return s.split()


def segments(code):
    """The simple commands of a line of shell (pipes, lists, subshells split)."""
    return re.split(r"\|\||&&|[|;&()`]|\$\(", code)


def prog_of(word):
    base = word.rsplit("/", 1)[-1]
    return base if base in PROGRAMS else None


class Checker:
    def __init__(self, known, keys, routes, meson_opts):
        self.known = known
        self.meson_opts = meson_opts | MESON_BUILTIN
        self.any_opt = set().union(*known.values())
        self.keys = keys
        self.all_keys = set().union(*keys.values())
        self.routes = routes
        self.errors = []
        self.checked = 0

    def bad(self, where, what):
        self.errors.append("%s: %s" % (where, what))

    def option(self, where, prog, word):
        m = OPT_RE.match(word)
        if not m or word in ("--", "-"):
            return
        opt = m.group(1)
        self.checked += 1
        if opt in ALLOW or opt.split("=")[0] in ALLOW:
            return
        if re.fullmatch(r"-[0-9]+", opt):  # a negative number, not an option
            return
        if prog is None and opt.startswith("-D") and len(opt) > 2:
            if opt[2:].replace("-", "_") not in self.meson_opts:
                self.bad(where, "-D%s: no such option in meson_options.txt" % opt[2:])
            return
        if prog is None:
            if opt not in self.any_opt and not (
                    re.fullmatch(r"-[A-Za-z0-9]{2,}", opt) and
                    all("-" + c in self.known["xvsadm"] for c in opt[1:])):
                self.bad(where, "%s is an option of none of %s" % (opt, ", ".join(PROGRAMS)))
            return
        have = self.known[prog]
        if opt in have:
            return
        # ipvsadm-style clusters of short options: -Ln, -lcn
        if prog == "xvsadm" and re.fullmatch(r"-[A-Za-z0-9]{2,}", opt) and \
                all("-" + c in have for c in opt[1:]):
            return
        self.bad(where, "%s: no option %s" % (prog, opt))

    def command(self, where, code, bare_prog):
        """Check a line of shell: each simple command that runs one of our programs."""
        for seg in segments(code):
            words = shell_words(seg)
            prog, first = None, True
            # Options before any program of ours: the segment's own (a bare `--state`)
            # when it starts with one, else another program's (`curl -T`).
            bare = bool(words) and words[0].startswith("-")
            for w in words:
                p = prog_of(w)
                if p:
                    prog, first = p, True
                    continue
                if prog is None:
                    if bare and bare_prog is not None and w.startswith("-"):
                        self.option(where, bare_prog if bare_prog else None, w)
                    continue
                if w.startswith("-"):
                    self.option(where, prog, w)
                elif first and prog in COMMANDS and re.fullmatch(r"[a-z]+", w):
                    if w not in COMMANDS[prog]:
                        self.bad(where, "%s: no command %s" % (prog, w))
                first = False

    def endpoints(self, where, text):
        for r in re.findall(r"(?<!/api)(/v1/[a-z0-9_]+)", text):
            if r not in self.routes:
                self.bad(where, "no API endpoint %s in control/ctl_api.c" % r)

    def key_span(self, where, span):
        m = re.fullmatch(r"([a-z][a-z0-9_]*) = \S.*", span)
        if m and m.group(1) not in self.all_keys:
            self.bad(where, "no configuration key %s in dataplane/dp_config.c" % m.group(1))

    def ini_block(self, name, lines):
        section = None
        for n, line in lines:
            line = line.split(";", 1)[0].strip()
            m = re.fullmatch(r"\[([a-z]+)(?: [^\]]+)?\]", line)
            if m:
                section = m.group(1)
                if section not in self.keys:
                    self.bad("%s:%d" % (name, n), "no section [%s] in dataplane/dp_config.c"
                             % section)
                continue
            m = re.fullmatch(r"([a-z][a-z0-9_]*)\s*=.*", line)
            if m and section in self.keys and m.group(1) not in self.keys[section]:
                self.bad("%s:%d" % (name, n), "no key %s in [%s] in dataplane/dp_config.c"
                         % (m.group(1), section))

    def markdown(self, path, name):
        lines = open(path).read().split("\n")
        fence, lang, block = None, "", []
        for n, line in enumerate(lines, 1):
            where = "%s:%d" % (name, n)
            self.endpoints(where, line)
            m = re.match(r"^\s*(```+)\s*([\w-]*)", line)
            if m and fence is None:
                fence, lang, block = m.group(1), m.group(2).lower(), []
                continue
            if fence is not None:
                if line.strip().startswith(fence):
                    if lang == "ini":
                        self.ini_block(name, block)
                    fence = None
                    continue
                block.append((n, line))
                if lang not in NOT_SHELL:
                    self.command(where, line.strip().lstrip("$# "), None)
                continue
            for span in re.findall(r"`([^`]+)`", line):
                self.key_span(where, span)
                self.command(where, span, "")

    def man_complete(self, path, name, help_opts):
        """Every long option of the program's --help is in its manual page."""
        text = open(path).read().replace("\\-", "-")
        named = set(re.findall(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9-]*)", text))
        for opt in sorted(help_opts - named - {"--help"}):
            if opt.startswith("--"):
                self.bad(name, "%s is in --help but not in the manual page" % opt)

    def manpage(self, path, name):
        prog = os.path.basename(path)[:-2]
        prog = prog if prog in PROGRAMS else ""
        for n, line in enumerate(open(path).read().split("\n"), 1):
            where = "%s:%d" % (name, n)
            if line.startswith('.\\"'):
                continue
            text = line.replace("\\-", "-").replace("\\(em", " ").replace("\\e", "\\")
            self.endpoints(where, text)
            marked = []
            m = re.match(r"^\.(B|I|BR|RB|BI|IB|IR|RI|TP|OP)\s+(.*)", text)
            if m:
                marked.append(m.group(2).replace('"', " "))
            marked += re.findall(r"\\f[BI](.*?)(?=\\f[RP]|$)", text)
            for span in marked:
                span = re.sub(r"\\f[BIRP]", " ", span)
                self.command(where, span, prog)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", required=True)
    ap.add_argument("--bin", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    bins = {}
    for b in a.bin:
        name, _, path = b.partition("=")
        if name not in PROGRAMS or not path:
            ap.error("--bin %s: want NAME=PATH with NAME one of %s" % (b, ", ".join(PROGRAMS)))
        bins[name] = path
    files = a.files or sorted(glob.glob(os.path.join(a.src, "docs", "*.md")) +
                              glob.glob(os.path.join(a.src, "docs", "*.8")) +
                              [os.path.join(a.src, "README.md")])
    meson_opts = set(re.findall(r"option\('([a-z_]+)'",
                                open(os.path.join(a.src, "meson_options.txt")).read()))
    c = Checker(known_options(a.src, bins), config_keys(a.src), api_routes(a.src), meson_opts)
    for prog in ("xvs-control", "xvs-dataplane"):
        man = os.path.join(a.src, "docs", prog + ".8")
        if prog in bins and man in files:
            c.man_complete(man, os.path.relpath(man, a.src), help_options(bins[prog]))
    for f in files:
        name = os.path.relpath(f, a.src) if not a.files else f
        if f.endswith(".8"):
            c.manpage(f, name)
        else:
            c.markdown(f, name)
    if c.errors:
        print("check_doc_options: the documentation and the code disagree in %d place(s):"
              % len(c.errors))
        for e in c.errors:
            print("  " + e)
        return 1
    print("check_doc_options: %d file(s), %d option(s) named, every option, command, key and "
          "endpoint exists (programs from --help: %s)"
          % (len(files), c.checked, ", ".join(sorted(bins)) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
