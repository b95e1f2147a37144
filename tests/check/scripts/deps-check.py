#!/usr/bin/python3
"""Checks that scripts/install-deps.sh names the Debian package of every
GStreamer element and external program the project uses.

It reads the source tree and finds
  - elements: in pipeline descriptions (gst-launch-1.0 lines of scripts,
    docs and comments, C and Python strings such as gst_parse_launch ()
    arguments and the apps' pipeline= key file lines, with the C string
    macros expanded), in gst_element_factory_make ("x") and similar calls,
    and as the capsfilter a caps string in a description makes;
  - programs: the commands of shell scripts and of the executed Markdown
    blocks (between <!-- NAME:begin --> and <!-- NAME:end -->), and the
    programs started by C (g_subprocess_new …), Python (subprocess …) and
    meson (find_program);
  - files: absolute /usr/share paths in C strings (the OpenCV cascade);
then finds the package providing each (elements: the "Filename" gst-inspect-1.0
prints, then dpkg -S; programs: command -v, then dpkg -S, trying the other
side of merged /usr and then the symlink's target), and fails naming every
package that `install-deps.sh --list` lacks. A package pulled in by a listed
one does not count; the base system (Essential: yes or Priority: required,
present on every Debian 12 including the minimal images) is accepted.
Elements of our own plugin (fal*) and programs the project builds are skipped.

Usage: deps-check.py SOURCE_ROOT [-v]
Exit status: 0 all named, 1 a package is missing or something cannot be
resolved, 77 not on a dpkg system.
"""

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
VERBOSE = "-v" in sys.argv

# Elements the tests name on purpose because they do not exist.
DELIBERATELY_MISSING = {
    "nosuchelement",  # tests/check/server/appsfile.c: such an app is refused
}

SKIP_DIRS = {".git", "node_modules", "subprojects", "out"}

ELEMENT_FUNCS = {  # first argument is an element factory name
    "gst_element_factory_make", "gst_element_factory_make_full",
    "gst_element_factory_find", "gst_harness_new", "gst_harness_new_full",
    "gst_harness_new_with_padnames", "gst_harness_new_with_templates",
    "gst_harness_add_element_full", "gst_check_setup_element",
}
DESCRIPTION_FUNCS = {  # first argument is a pipeline description
    "gst_parse_launch", "gst_parse_launch_full", "gst_parse_bin_from_description",
    "gst_parse_bin_from_description_full", "gst_harness_new_parse",
    "gst_harness_add_parse",
}
PROGRAM_FUNCS = {  # function: index of the argument naming the program
    "g_find_program_in_path": 0, "g_subprocess_new": 2,
    "g_subprocess_launcher_spawn": 2, "g_spawn_command_line_sync": 0,
    "g_spawn_command_line_async": 0,
}

BASH_BUILTINS = set("""
alias bg bind break builtin caller cd command compgen complete compopt continue
declare dirs disown echo enable eval exec exit export false fc fg getopts hash
help history jobs kill let local logout mapfile popd printf pushd pwd read
readarray readonly return set shift shopt source suspend test times trap true
type typeset ulimit umask unalias unset wait . : [ [[ ]] ]
""".split())
SHELL_RESERVED_CMD = {"if", "then", "else", "elif", "do", "while", "until",
                      "!", "{", "time"}
SHELL_RESERVED_END = {"fi", "done", "esac", "}"}

ELEMENT_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
CAPS_RE = re.compile(r"^(video|audio|image|text|application|subpicture)/[^\s=,]+")
PROPERTY_RE = re.compile(r"^[A-Za-z_][\w:-]*=")


class Uses:
    def __init__(self):
        self.items = {}  # (kind, name or alternatives) -> [where]

    def add(self, kind, name, where):
        self.items.setdefault((kind, name), [])
        if where not in self.items[(kind, name)]:
            self.items[(kind, name)].append(where)


USES = Uses()


def rel(path):
    return os.path.relpath(path, ROOT)


# ---- pipeline descriptions ----------------------------------------------

def description_tokens(text):
    """Splits a pipeline description at spaces, keeping "quoted" values."""
    tokens, cur, quote, i = [], "", False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == '"':
            quote = not quote
        if c.isspace() and not quote:
            if cur:
                tokens.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        tokens.append(cur)
    return tokens


def classify(token):
    if token == "!":
        return "link"
    if "$" in token:
        return "variable"
    if CAPS_RE.match(token):
        return "caps"
    if PROPERTY_RE.match(token):
        return "property"
    if "%" in token:
        return "slot"
    if "." in token and re.match(r"^[\w-]*\.[\w%-]*$", token):
        return "reference"
    if ELEMENT_RE.match(token):
        return "element"
    return "other"


def description_elements(tokens, strict):
    """The element names of a description (and whether one is only known at
    run time), or None when @strict and the tokens are not a description."""
    kinds = [classify(t) for t in tokens]
    if strict:
        if "link" not in kinds:
            return None
        segments, seg = [], []
        for t, k in zip(tokens, kinds):
            if k == "link":
                segments.append(seg)
                seg = []
            else:
                seg.append(k)
        segments.append(seg)
        for seg in segments:
            if not seg or seg[0] not in ("element", "caps", "reference",
                                         "variable", "slot"):
                return None
            if any(k == "other" for k in seg):
                return None
    names, dynamic = [], False
    for t, k in zip(tokens, kinds):
        if k == "element":
            names.append(t)
        elif k == "caps":
            names.append("capsfilter")
        elif k == "slot":
            dynamic = True
    return names, dynamic


def add_description(text, where, strict=True):
    tokens = description_tokens(text)
    found = description_elements(tokens, strict)
    if found is None:
        return False
    names, dynamic = found
    for name in names:
        USES.add("element", name, where)
    return dynamic


def add_launch_line(text, where):
    """A gst-launch-1.0 command line (shell syntax), from after the program."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    argv = []
    try:
        for word in lexer:
            if word and word[0] in ";&|<>":
                break
            argv.append(word)
    except ValueError:
        return
    while argv and argv[0].startswith("-"):
        argv.pop(0)
    # shell quoting removed: each argument is one description token
    for name in description_elements(argv, strict=False)[0]:
        USES.add("element", name, where)


def launch_lines(lines, first_lineno, where_file):
    """Finds gst-launch-1.0 commands in text lines, joining continuations."""
    i = 0
    while i < len(lines):
        line, start = lines[i], i
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i]
        m = re.match(r"^\s*(?:\$\s+)?gst-launch-1\.0\s", line)
        if m:
            add_launch_line(line[m.end():],
                            "%s:%d" % (where_file, first_lineno + start))
        i += 1


# ---- C -------------------------------------------------------------------

C_TOKEN = re.compile(r"""
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<pp>^[ \t]*\#(?:\\\n|[^\n])*)
  | (?P<string>(?:u8|[uUL])?"(?:\\.|[^"\\\n])*")
  | (?P<char>'(?:\\.|[^'\\\n])+')
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<number>\d[\w.]*)
  | (?P<punct>[^\s\w])
  | (?P<space>\s+)
""", re.S | re.M | re.X)

C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'", "r": "\r"}


def c_unescape(literal):
    body = literal[literal.index('"') + 1:-1]
    return re.sub(r"\\(.)", lambda m: C_ESCAPES.get(m.group(1), m.group(1)),
                  body)


def c_tokens(text):
    line = 1
    for m in C_TOKEN.finditer(text):
        kind = m.lastgroup
        yield kind, m.group(), line
        line += m.group().count("\n")


STRING_MACROS = {}


def collect_macros(paths):
    define = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+((?:\\\n|[^\n])*)", re.M)
    for path in paths:
        text = open(path, errors="replace").read()
        for m in define.finditer(text):
            body = m.group(2).replace("\\\n", " ")
            toks = [(k, v) for k, v, _ in c_tokens(body) if k not in ("space", "comment")]
            if toks and any(k == "string" for k, _ in toks) and \
                    all(k in ("string", "ident") for k, _ in toks):
                STRING_MACROS[m.group(1)] = toks


def macro_value(name, depth=0):
    if name not in STRING_MACROS or depth > 8:
        # an unknown upper-case macro between literals: G_GINT64_FORMAT …
        return "d" if name.endswith("FORMAT") else ""
    out = ""
    for k, v in STRING_MACROS[name]:
        out += c_unescape(v) if k == "string" else macro_value(v, depth + 1)
    return out


def scan_c(path, known_factories):
    text = open(path, errors="replace").read()
    where = rel(path)
    toks = []
    for kind, value, line in c_tokens(text):
        if kind == "comment":
            body = re.sub(r"^\s*(/\*+|\*+/?|//)", "", value, flags=re.M)
            launch_lines(body.split("\n"), line, where)
        elif kind not in ("space", "pp"):
            toks.append((kind, value, line))

    # runs of adjacent string literals and string macros
    runs = {}  # index of first token -> (end index, value, line)
    i = 0
    while i < len(toks):
        j, value, has_string = i, "", False
        while j < len(toks) and (toks[j][0] == "string" or (
                toks[j][0] == "ident" and toks[j][1].isupper() and
                (toks[j][1] in STRING_MACROS or toks[j][1].endswith("FORMAT")))):
            if toks[j][0] == "string":
                value += c_unescape(toks[j][1])
                has_string = True
            else:
                value += macro_value(toks[j][1])
                has_string = has_string or toks[j][1] in STRING_MACROS
            j += 1
        if j > i and has_string:
            runs[i] = (j, value, toks[i][2])
            i = j
        else:
            i += 1

    def argument(open_index, n):
        """(run value, line) of argument @n of the call opened at @open_index."""
        depth, arg, start = 0, 0, open_index + 1
        k = open_index + 1
        while k < len(toks):
            v = toks[k][1]
            if v in "([{":
                depth += 1
            elif v in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif v == "," and depth == 0:
                if arg == n:
                    break
                arg += 1
                start = k + 1
            k += 1
        if arg != n:
            return None
        if start in runs and runs[start][0] == k:
            return runs[start][1], runs[start][2]
        return False  # not a literal

    dynamic = False
    for idx, (kind, value, line) in enumerate(toks):
        if kind != "ident" or idx + 1 >= len(toks) or toks[idx + 1][1] != "(":
            continue
        if value in ELEMENT_FUNCS:
            arg = argument(idx + 1, 0)
            if arg:
                USES.add("element", arg[0], "%s:%d" % (where, arg[1]))
            elif arg is False:
                dynamic = True
        elif value in DESCRIPTION_FUNCS:
            arg = argument(idx + 1, 0)
            if arg:
                add_description(arg[0], "%s:%d" % (where, arg[1]), strict=False)
        elif value in PROGRAM_FUNCS:
            arg = argument(idx + 1, PROGRAM_FUNCS[value])
            if arg:
                USES.add("program", arg[0].split()[0], "%s:%d" % (where, arg[1]))

    for start, (end, value, line) in runs.items():
        for n, text_line in enumerate(value.split("\n")):
            desc = text_line[len("pipeline="):] if text_line.startswith("pipeline=") else text_line
            if add_description(desc, "%s:%d" % (where, line)):
                dynamic = True
        if re.match(r"^/usr/share/\S+$", value):
            USES.add("file", value, "%s:%d" % (where, line))

    if dynamic:
        # an element chosen at run time (a variable, or "%s" in a
        # description): take this file's literals that name an element
        for start, (end, value, line) in runs.items():
            if value in known_factories:
                USES.add("element", value, "%s:%d" % (where, line))


# ---- Python --------------------------------------------------------------

def scan_python(path, text=None, where_prefix=None):
    text = text if text is not None else open(path, errors="replace").read()
    where = where_prefix or rel(path)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            owner = ast.unparse(f.value) if isinstance(f, ast.Attribute) else ""
            first = node.args[0] if node.args else None
            lit = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            at = "%s:%d" % (where, node.lineno)
            if owner == "subprocess" and name in ("run", "Popen", "call",
                                                  "check_call", "check_output"):
                if isinstance(first, (ast.List, ast.Tuple)) and first.elts and \
                        isinstance(first.elts[0], ast.Constant):
                    USES.add("program", first.elts[0].value, at)
                elif lit:
                    USES.add("program", lit.split()[0], at)
            elif owner == "shutil" and name == "which" and lit:
                USES.add("program", lit, at)
            elif owner.endswith("ElementFactory") and name in ("make", "find") and lit:
                USES.add("element", lit, at)
            elif name in ("parse_launch", "parse_bin_from_description") and lit:
                add_description(lit, at, strict=False)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            add_description(node.value, "%s:%d" % (where, node.lineno))


# ---- shell ---------------------------------------------------------------

def strip_heredocs(text):
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        out.append(lines[i])
        m = re.search(r"<<(-?)\s*(['\"]?)(\w+)\2", lines[i])
        i += 1
        if m:
            while i < len(lines) and (lines[i].strip() if m.group(1) else lines[i]) != m.group(3):
                out.append("")
                i += 1
            if i < len(lines):
                out.append("")  # the delimiter
                i += 1
    return "\n".join(out)


def matching(text, i, open_c, close_c):
    """Index after the @close_c matching the @open_c before @i."""
    depth, quote = 1, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def shell_lex(text, subs):
    """Words and operators of a shell text; the texts of its command
    substitutions are appended to @subs. Words are (word, dynamic, line)."""
    out, i, line = [], 0, 1
    word, dynamic, in_word = "", False, False

    def flush():
        nonlocal word, dynamic, in_word
        if in_word:
            out.append(("word", word, dynamic, line))
        word, dynamic, in_word = "", False, False

    while i < len(text):
        c = text[i]
        if c == "\n":
            flush()
            out.append(("op", "\n", False, line))
            line += 1
            i += 1
        elif c in " \t":
            flush()
            i += 1
        elif c == "#" and not in_word:
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c == "\\":
            if text[i + 1:i + 2] == "\n":
                line += 1
            else:
                word += text[i + 1:i + 2]
                in_word = True
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = len(text) if j < 0 else j
            word += text[i + 1:j]
            line += text[i:j].count("\n")
            in_word = True
            i = j + 1
        elif c == '"':
            in_word = True
            j = i + 1
            while j < len(text) and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j:j + 2] == "$(" and text[j:j + 3] != "$((":
                    k = matching(text, j + 2, "(", ")")
                    subs.append((text[j + 2:k - 1], line))
                    dynamic = True
                    j = k
                    continue
                if text[j] == "`":
                    k = text.find("`", j + 1)
                    subs.append((text[j + 1:k], line))
                    dynamic = True
                    j = k + 1
                    continue
                if text[j] == "$":
                    dynamic = True
                word += text[j]
                j += 1
            line += text[i:j].count("\n")
            i = j + 1
        elif c == "$":
            in_word, dynamic = True, True
            if text[i:i + 3] == "$((":
                i = matching(text, i + 3, "(", ")") + 1
            elif text[i:i + 2] == "$(":
                k = matching(text, i + 2, "(", ")")
                subs.append((text[i + 2:k - 1], line))
                line += text[i:k].count("\n")
                i = k
            elif text[i:i + 2] == "${":
                i = matching(text, i + 2, "{", "}")
            else:
                word += c
                i += 1
        elif c == "`":
            k = text.find("`", i + 1)
            subs.append((text[i + 1:k], line))
            in_word, dynamic = True, True
            i = k + 1
        elif c == "(" and in_word and word.endswith("="):
            # array assignment: name=( … )
            k = matching(text, i + 1, "(", ")")
            line += text[i:k].count("\n")
            word += "(...)"
            i = k
        elif c in "<>" and text[i + 1:i + 2] == "(":
            # process substitution <( … ): its commands run too
            flush()
            k = matching(text, i + 2, "(", ")")
            subs.append((text[i + 2:k - 1], line))
            out.append(("word", "<(...)", True, line))
            line += text[i:k].count("\n")
            i = k
        elif c in "<>":
            if in_word and word.isdigit():
                word, in_word = "", False
            flush()
            j = i
            while j < len(text) and text[j] in "<>&|":
                j += 1
            if text[i:j] == "<<<":
                pass
            out.append(("op", "redir", False, line))
            i = j
        elif c in ";&|()":
            flush()
            j = i + 1
            while j < len(text) and text[j] in ";&|" and c != "(" and c != ")":
                j += 1
            out.append(("op", text[i:j], False, line))
            i = j
        else:
            word += c
            in_word = True
            i += 1
    flush()
    return out


WRAPPER_OPTION_ARGS = {  # options of the wrappers that take an argument
    "env": {"-u", "-C", "-S"}, "timeout": {"-s", "-k"}, "nice": {"-n"},
    "sudo": {"-u", "-g"}, "xargs": {"-I", "-n", "-d"}, "setsid": set(),
    "exec": {"-a"}, "nohup": set(), "command": set(),
}


def command_words(words, functions):
    """The programs a simple command runs, wrappers (timeout, env …) first:
    a list of (word, dynamic, probe)."""
    found = []
    i = 0
    while i < len(words):
        w, dyn = words[i]
        if re.match(r"^[A-Za-z_]\w*\+?=", w):
            i += 1  # an assignment
        elif w in SHELL_RESERVED_CMD or w in SHELL_RESERVED_END:
            i += 1
        elif w == "coproc":
            i += 2 if i + 2 < len(words) and words[i + 2][0] in ("{", "(") else 1
        elif w in ("for", "select", "case", "function", "[[", "[", "test"):
            return found
        elif w in WRAPPER_OPTION_ARGS:
            found.append((w, dyn, False))
            i += 1
            takes = WRAPPER_OPTION_ARGS[w]
            while i < len(words) and words[i][0].startswith("-"):
                if w == "command" and words[i][0] in ("-v", "-V"):
                    return found + [(words[i + 1][0], words[i + 1][1], True)] \
                        if i + 1 < len(words) else found
                i += 2 if words[i][0] in takes else 1
            if w == "env":
                while i < len(words) and "=" in words[i][0]:
                    i += 1
            if w == "timeout" and i < len(words):
                i += 1  # the duration
        else:
            return found + [(w, dyn, False)]
    return found


def shell_programs(text, where, first_line=1, functions=None):
    text = strip_heredocs(text)
    if functions is None:
        functions = set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)", text, re.M))
    subs = []
    toks = shell_lex(text, subs)

    # split into simple commands, skipping case patterns and [[ … ]]
    commands, cur, redirect = [], [], False
    case_patterns, in_test, case_wants_in = False, False, False
    for kind, value, dynamic, line in toks:
        if kind == "op" and value == "redir":
            redirect = True
            continue
        if kind == "word" and redirect:
            redirect = False
            continue
        if in_test:
            if kind == "word" and value == "]]":
                in_test = False
            continue
        if case_patterns:
            if kind == "op" and value == ")":
                case_patterns = False
            elif kind == "word" and value == "esac":
                case_patterns = False
                cur.append((value, dynamic, line))
            continue
        if kind == "op":
            if value == ";;":
                case_patterns = True
            if cur:
                commands.append(cur)
            cur = []
            continue
        if value == "[[" and all(w in SHELL_RESERVED_CMD for w, _, _ in cur):
            in_test = True
            continue
        if not cur and value == "case":
            case_wants_in = True
        if case_wants_in and value == "in":
            case_wants_in, case_patterns = False, True
        cur.append((value, dynamic, line))
    if cur:
        commands.append(cur)

    for words in commands:
        at = "%s:%d" % (where, first_line + words[0][2] - 1)
        for value, dynamic, probe in command_words([(w, d) for w, d, _ in words],
                                                   functions):
            if value in BASH_BUILTINS or value in functions or dynamic or not value:
                continue  # a builtin, a function, a command from a variable
            if "/" in value and not value.startswith("/"):
                continue  # a file of the project (scripts/build.sh, ./x)
            USES.add("program", value, at)
            if value != "gst-launch-1.0" or probe:
                continue
            argv = [w for w, d, _ in words]
            argv = argv[argv.index(value) + 1:]
            while argv and argv[0].startswith("-"):
                argv.pop(0)
            for name in description_elements(argv, strict=False)[0]:
                USES.add("element", name, at)
    for sub, line in subs:
        shell_programs(sub, where, first_line + line - 1, functions)


def add_interpreter(path):
    """The program of a script's #! line (env's argument for #!/usr/bin/env)."""
    words = shebang(path)[2:].split()
    if words:
        program = words[1] if os.path.basename(words[0]) == "env" and len(words) > 1 else words[0]
        USES.add("program", program, "%s:1" % rel(path))


def scan_shell(path):
    text = open(path, errors="replace").read()
    where = rel(path)
    shell_programs(text, where)
    body = strip_heredocs(text)
    # pipeline fragments kept in shell strings (main-job.sh builds its
    # description from variables)
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', body, re.S):
        line = body.count("\n", 0, m.start()) + 1
        add_description(m.group(1), "%s:%d" % (where, line))


# ---- Markdown, meson, JavaScript -----------------------------------------

def scan_markdown(path):
    text = open(path, errors="replace").read()
    where = rel(path)
    lines = text.split("\n")
    in_block, block, block_start = False, [], 0
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            if in_block:
                launch_lines(block, block_start, where)
                for k, bl in enumerate(block):
                    if bl.startswith("pipeline="):
                        add_description(bl[len("pipeline="):],
                                        "%s:%d" % (where, block_start + k))
            in_block, block, block_start = not in_block, [], n + 1
        elif in_block:
            block.append(line)
    # the executed blocks: programs too
    for m in re.finditer(r"<!-- ([\w-]+):begin -->\n(.*?)<!-- \1:end -->", text, re.S):
        first = text.count("\n", 0, m.start(2)) + 1
        body = "\n".join("" if l.startswith("```") else l
                         for l in m.group(2).split("\n"))
        shell_programs(body, where, first)


def scan_meson(path):
    text = open(path, errors="replace").read()
    where = rel(path)
    for m in re.finditer(r"find_program\s*\(([^)]*)\)", text):
        # the positional arguments: alternatives, the first found is used
        names = re.findall(r"'([^']+)'", m.group(1).split(":")[0])
        optional = re.search(r"required\s*:\s*false", m.group(1)) is not None
        line = text.count("\n", 0, m.start()) + 1
        if names:
            USES.add("program", tuple(names) if len(names) > 1 else names[0],
                     "%s:%d%s" % (where, line, " (optional)" if optional else ""))


def scan_js(path):
    text = open(path, errors="replace").read()
    for m in re.finditer(r"\b(?:spawn|spawnSync|execFile|execFileSync)\s*\(\s*['\"]([^'\"]+)['\"]", text):
        USES.add("program", m.group(1), "%s:%d" % (rel(path), text.count("\n", 0, m.start()) + 1))


# ---- walking the tree ----------------------------------------------------

def is_build_dir(path):
    return os.path.exists(os.path.join(path, "meson-private")) or \
        os.path.exists(os.path.join(path, "build.ninja"))


def source_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and
                             (not d.startswith(".") or d == ".ci") and
                             not is_build_dir(os.path.join(dirpath, d)))
        for f in sorted(filenames):
            yield os.path.join(dirpath, f)


def shebang(path):
    try:
        with open(path, "rb") as fh:
            first = fh.readline(200)
    except OSError:
        return ""
    return first.decode(errors="replace") if first.startswith(b"#!") else ""


def project_programs():
    names = set()
    for path in source_files():
        if os.path.basename(path) == "meson.build":
            names.update(re.findall(r"executable\s*\(\s*'([^']+)'",
                                    open(path, errors="replace").read()))
    return names


def our_elements():
    names = set()
    for path in source_files():
        if path.endswith(".c"):
            names.update(re.findall(
                r"GST_ELEMENT_REGISTER_DEFINE\w*\s*\(\s*\w+\s*,\s*\"([^\"]+)\"",
                open(path, errors="replace").read()))
    return names


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def known_factories():
    out = run(["gst-inspect-1.0"]).stdout
    return set(m.group(1) for m in re.finditer(r"^[\w-]+:\s+([\w-]+):", out, re.M))


def scan():
    files = list(source_files())
    collect_macros([f for f in files if f.endswith((".c", ".h"))])
    factories = known_factories()
    for path in files:
        name = os.path.basename(path)
        if shebang(path):
            add_interpreter(path)
        if path.endswith((".c", ".h")):
            scan_c(path, factories)
        elif path.endswith(".py") or "python" in shebang(path):
            scan_python(path)
        elif path.endswith(".sh") or re.search(r"\b(ba)?sh\b", shebang(path)):
            scan_shell(path)
        elif path.endswith(".md"):
            scan_markdown(path)
        elif name == "meson.build":
            scan_meson(path)
        elif path.endswith((".mjs", ".js")):
            scan_js(path)


# ---- packages ------------------------------------------------------------

def usr_counterpart(path):
    if path.startswith("/usr/"):
        return path[4:]
    return "/usr" + path


def program_candidates(name):
    """(paths to ask dpkg about, in order, note) for a program."""
    if name.startswith("/"):
        path = name if os.path.exists(name) else None
    else:
        path = shutil.which(name)
    if path is None:
        return [], None
    cands = [path, usr_counterpart(path)]
    real = os.path.realpath(path)
    if real != path:
        cands += [real, usr_counterpart(real)]
    note = None
    if not re.match(r"^/(usr/)?s?bin/", path):
        # found first on PATH outside Debian's directories (a pyenv shim, a
        # /usr/local install): what would a clean Debian run?
        for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
            p = os.path.join(d, os.path.basename(path))
            if os.path.exists(p):
                cands += [p, usr_counterpart(p), os.path.realpath(p)]
                note = "PATH finds %s first; checked %s" % (path, p)
                break
    return cands, note


def dpkg_owners(paths):
    owners = {}
    paths = sorted(set(p for p in paths if p))
    if not paths:
        return owners
    out = run(["dpkg", "-S"] + paths).stdout
    for line in out.splitlines():
        if line.startswith("diversion by"):
            continue
        m = re.match(r"^(.*?): (/.*)$", line)
        if m and m.group(2) in paths:
            owners[m.group(2)] = [p.split(":")[0] for p in m.group(1).split(", ")]
    return owners


def main():
    if shutil.which("dpkg") is None or shutil.which("gst-inspect-1.0") is None:
        print("SKIP: needs dpkg and gst-inspect-1.0 (Debian)")
        return 77
    listed = run(["bash", os.path.join(ROOT, "scripts", "install-deps.sh"),
                  "--list"])
    if listed.returncode != 0:
        print("install-deps.sh --list failed: %s" % listed.stderr)
        return 1
    listed = set(listed.stdout.split())

    scan()
    ours, built = our_elements(), project_programs()
    problems, rows = [], []

    # what provides each use
    resolved = {}  # key -> (paths to try, note) or error string
    for (kind, name), wheres in sorted(USES.items.items(), key=str):
        if kind == "element":
            if name.startswith("fal") or name in ours:
                continue
            if name in DELIBERATELY_MISSING:
                continue
            r = run(["gst-inspect-1.0", name])
            m = re.search(r"^\s*Filename\s+(\S.*)$", r.stdout, re.M)
            if r.returncode != 0 or not m:
                resolved[(kind, name)] = "no such element (gst-inspect-1.0 %s fails)" % name
            else:
                f = m.group(1).strip()
                resolved[(kind, name)] = ([f, usr_counterpart(f), os.path.realpath(f)], f)
        elif kind == "program":
            names = name if isinstance(name, tuple) else (name,)
            if any(n in built for n in names):
                continue
            for n in names:
                cands, note = program_candidates(n)
                if cands:
                    resolved[(kind, name)] = (cands, note or cands[0])
                    break
            else:
                optional = all(w.endswith("(optional)") for w in wheres)
                resolved[(kind, name)] = "%s not found on PATH%s" % (
                    " or ".join(names), " (optional)" if optional else "")
        elif kind == "file":
            resolved[(kind, name)] = ([name, os.path.realpath(name)], name)

    owners = dpkg_owners(p for v in resolved.values() if isinstance(v, tuple) for p in v[0])
    needed = {}
    for key in sorted(resolved, key=str):
        kind, name = key
        label = name if isinstance(name, str) else " | ".join(name)
        wheres = USES.items[key]
        value = resolved[key]
        if isinstance(value, str):
            rows.append((kind, label, "-", "-", "NOT FOUND", wheres[0]))
            if not value.endswith("(optional)"):
                problems.append("%s %s (%s): %s" % (kind, label, wheres[0], value))
            continue
        cands, shown = value
        pkgs = next((owners[p] for p in cands if p in owners), None)
        if pkgs is None:
            rows.append((kind, label, shown, "-", "not from a package", wheres[0]))
            problems.append("%s %s (%s): %s belongs to no Debian package" % (
                kind, label, wheres[0], shown))
            continue
        for p in pkgs:
            needed.setdefault(p, []).append((kind, label, wheres))
        rows.append((kind, label, shown, ", ".join(pkgs), "", wheres[0]))

    base = {}
    if needed:
        q = run(["dpkg-query", "-W", "-f=${Package}\t${Essential}\t${Priority}\n"]
                + sorted(needed))
        for line in q.stdout.splitlines():
            pkg, essential, priority = (line.split("\t") + ["", ""])[:3]
            if essential == "yes" or priority == "required":
                base[pkg] = "Essential" if essential == "yes" else "Priority: required"

    for kind, label, shown, pkgs, state, where in rows:
        if not state and pkgs != "-":
            states = []
            for p in pkgs.split(", "):
                states.append("listed" if p in listed else
                              ("base system (%s)" % base[p]) if p in base else "MISSING")
            state = "/".join(states)
        if VERBOSE or "MISSING" in state or pkgs == "-":
            print("%-8s %-20s %-26s %-40s %s  [%s]" % (
                kind, label, pkgs, state, shown, where))

    for pkg in sorted(needed):
        if pkg in listed or pkg in base:
            continue
        uses = needed[pkg]
        problems.append("scripts/install-deps.sh lacks %s, which provides %s" % (
            pkg, "; ".join("%s %s (%s)" % (k, l, ", ".join(w[:3])) for k, l, w in uses)))

    n_el = sum(1 for k in resolved if k[0] == "element")
    n_pr = sum(1 for k in resolved if k[0] == "program")
    print("checked %d elements, %d programs, %d files from %d packages" % (
        n_el, n_pr, len(resolved) - n_el - n_pr, len(needed)))
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
