package pyscan

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/need"
)

// syntaxCase is a module and which CPythons compile it when importing it
// from a file: Python 2.7, and the Python 3 versions of py3 ("3.6+",
// "3.9+", "-3.7", "3.9 3.13"; "" for none). The table was written from
// CPython 2.7.18 and 3.6.15-3.13.0; TestSyntaxAgainstPython checks it
// against every one of them it finds.
type syntaxCase struct {
	name string
	src  string
	py2  bool
	py3  string
}

// py3Accepts reports whether CPython 3.minor compiles the case.
func (c syntaxCase) py3Accepts(minor int) bool {
	r := c.py3
	switch {
	case r == "":
		return false
	case strings.HasSuffix(r, "+"):
		return minor >= minorOf(strings.TrimSuffix(r, "+"))
	case strings.HasPrefix(r, "-"):
		return minor <= minorOf(strings.TrimPrefix(r, "-"))
	}
	for _, v := range strings.Fields(r) {
		if minorOf(v) == minor {
			return true
		}
	}
	return false
}

func minorOf(v string) int {
	_, m, _ := strings.Cut(v, ".")
	n := 0
	for _, c := range m {
		n = n*10 + int(c-'0')
	}
	return n
}

// verdict is what the union scanner must say: "error" when no Python
// compiles it, "py2" or "py3" when only one dialect does, "both".
func (c syntaxCase) verdict() string {
	switch {
	case !c.py2 && c.py3 == "":
		return "error"
	case c.py2 && c.py3 == "":
		return "py2"
	case !c.py2:
		return "py3"
	}
	return "both"
}

func syntaxCases() []syntaxCase {
	nest := func(open, close string, n int) string {
		return "x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n"
	}
	indent := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(strings.Repeat(" ", i) + "if 1:\n")
		}
		return b.String() + strings.Repeat(" ", n) + "pass\n"
	}
	return append(syntaxTable,
		syntaxCase{"deep_parens_150", nest("(", ")", 150), false, "3.9+"},
		syntaxCase{"deep_parens_201", nest("(", ")", 201), false, ""},
		syntaxCase{"deep_unary_1000", nest("-", "", 1000), true, "3.6+"},
		syntaxCase{"deep_unary_3000", nest("-", "", 3000), false, "3.9 3.13"},
		syntaxCase{"deep_unary_7000", nest("-", "", 7000), false, ""},
		syntaxCase{"indent_99", indent(99), true, "3.6+"},
		syntaxCase{"indent_100", indent(100), false, ""},
	)
}

var syntaxTable = []syntaxCase{
	{"empty", "", true, "3.6+"},
	{"comment_only", "# just a comment\n", true, "3.6+"},
	{"no_trailing_newline", "x = 1", true, "3.6+"},
	{"crlf", "x = 1\r\nif x:\r\n    y = 2\r\n", true, "3.6+"},
	{"cr_only", "x = 1\rif x:\r    y = 2\r", true, "3.6+"},
	{"formfeed_indent", "if 1:\n\x0c    x = 1\n    y = 2\n", true, "3.6+"},
	{"tabs_consistent", "if 1:\n\tx = 1\n\tif x:\n\t\ty = 2\n", true, "3.6+"},
	{"tabs_inconsistent", "if 1:\n        x = 1\n\ty = 2\n", true, ""},
	{"unexpected_indent", "x = 1\n    y = 2\n", false, ""},
	{"bad_dedent", "if 1:\n    x = 1\n  y = 2\n", false, ""},
	{"missing_block", "if 1:\nx = 1\n", false, ""},
	{"missing_block_eof", "if 1:\n", false, ""},
	{"continuation", "x = 1 + \\\n    2\n", true, "3.6+"},
	{"continuation_bad", "x = 1 \\ 2\n", false, ""},
	{"continuation_eof", "x = 1 \\", true, "-3.7"},
	{"brackets_multiline", "x = (1,\n  2,\n)\n", true, "3.6+"},
	{"bracket_unclosed", "x = (1,\n", false, ""},
	{"bracket_mismatch", "x = (1]\n", false, ""},
	{"bracket_extra", "x = 1)\n", false, ""},
	{"vt_char", "x = 1\x0b\n", false, ""},
	{"dollar", "x = $1\n", false, ""},
	{"question", "x = 1 ?\n", false, ""},
	{"bang", "x = !1\n", false, ""},
	{"nul", "x = 1\n\x00\n", true, ""},
	{"nul_in_string", "x = 'a\x00b'\n", false, ""},
	{"nul_in_comment", "# a\x00b\nx = 1\n", true, ""},
	{"str_unterminated", "x = 'abc\n", false, ""},
	{"str_triple_unterminated", "x = '''abc\n", false, ""},
	{"str_escaped_newline", "x = 'abc\\\ndef'\n", true, "3.6+"},
	{"str_raw_backslash_quote", "x = r'a\\'b'\n", true, "3.6+"},
	{"str_raw_odd_backslash", "x = r'\\'\n", false, ""},
	{"str_prefix_rb", "x = rb'a'\n", false, "3.6+"},
	{"str_prefix_br", "x = br'a'\n", true, "3.6+"},
	{"str_prefix_ur", "x = ur'a'\n", true, ""},
	{"str_prefix_ru", "x = ru'a'\n", false, ""},
	{"str_prefix_u", "x = u'a'\n", true, "3.6+"},
	{"str_prefix_B", "x = B'a'\n", true, "3.6+"},
	{"str_prefix_f", "x = f'{y}'\n", false, "3.6+"},
	{"str_prefix_F", "x = F'{y!r:>{w}}'\n", false, "3.6+"},
	{"fstring_nested_quotes_312", "x = f'{a[\"b\"]}'\n", false, "3.6+"},
	{"fstring_same_quotes_312", "x = f\"{a[\"b\"]}\"\n", false, "3.12+"},
	{"fstring_single_brace", "x = f'a}b'\n", false, ""},
	{"fstring_double_brace", "x = f'{{a}}'\n", false, "3.6+"},
	{"fstring_unclosed_field", "x = f'{a'\n", false, ""},
	{"fstring_debug", "x = f'{a=}'\n", false, "3.8+"},
	{"fstring_call", "x = f'{os.system(\"id\")}'\n", false, "3.6+"},
	{"fstring_triple_newline", "x = f'''{\na\n}'''\n", false, "3.6+"},
	{"xescape_short", "x = '\\x4'\n", false, ""},
	{"uescape_short_str", "x = '\\u12'\n", true, ""},
	{"uescape_short_unicode", "x = u'\\u12'\n", false, ""},
	{"uescape_short_bytes", "x = b'\\u12'\n", true, "3.6+"},
	{"uescape_unicode_literals", "from __future__ import unicode_literals\nx = '\\u12'\n", false, ""},
	{"octal_escape", "x = '\\777'\n", true, "3.6+"},
	{"bytes_nonascii_cookie", "# coding: utf-8\nx = b'\xc3\xa9'\n", true, ""},
	{"str_nonascii_cookie", "# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n", true, "3.6+"},
	{"str_nonascii_nocookie", "x = '\xc3\xa9'\n", false, "3.6+"},
	{"comment_nonascii_nocookie", "# caf\xc3\xa9\nx = 1\n", false, "3.6+"},
	{"comment_invalid_utf8_nocookie", "# caf\xe9\nx = 1\n", false, "3.6+"},
	{"str_invalid_utf8_nocookie", "x = 'caf\xe9'\n", false, ""},
	{"str_latin1_cookie", "# vim: set fileencoding=latin-1 :\nx = 'caf\xe9'\n", true, "3.6+"},
	{"cookie_line2", "#!/usr/bin/python\n# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n", true, "3.6+"},
	{"bom", "\xef\xbb\xbfx = '\xc3\xa9'\n", true, "3.6+"},
	{"name_nonascii", "caf\xc3\xa9 = 1\n", false, "3.6+"},
	{"num_long", "x = 10L\n", true, ""},
	{"num_octal_old", "x = 0777\n", true, ""},
	{"num_octal_09", "x = 09\n", false, ""},
	{"num_float_09", "x = 09.5\n", true, "3.6+"},
	{"num_zeros", "x = 00\n", true, "3.6+"},
	{"num_octal_new", "x = 0o777\n", true, "3.6+"},
	{"num_hex", "x = 0xFFL\n", true, ""},
	{"num_bin", "x = 0b101\n", true, "3.6+"},
	{"num_underscore", "x = 1_000\n", false, "3.6+"},
	{"num_underscore_bad", "x = 1__000\n", false, ""},
	{"num_complex", "x = 1.5e-3j\n", true, "3.6+"},
	{"num_1if", "x = 1if y else 2\n", true, "3.6+"},
	{"num_1abc", "x = 1abc\n", false, ""},
	{"num_dotdot", "x = 1..real\n", true, "3.6+"},
	{"num_hex_empty", "x = 0x\n", false, ""},
	{"ellipsis_expr", "x = ...\n", false, "3.6+"},
	{"ellipsis_subscript", "x[...]\n", true, "3.6+"},
	{"ellipsis_slice", "x[1:...]\n", false, "3.6+"},
	{"true_assign", "True = 1\n", true, ""},
	{"none_assign", "None = 1\n", false, ""},
	{"debug_assign", "__debug__ = 1\n", false, ""},
	{"print_stmt", "print 'x'\n", true, ""},
	{"print_stmt_comma", "print 'a',\n", true, ""},
	{"print_chevron", "print >>f, 'x'\n", true, "3.6+"},
	{"print_call", "print('x')\n", true, "3.6+"},
	{"print_call_kw", "print('a', end='')\n", false, "3.6+"},
	{"print_call_kw_future", "from __future__ import print_function\nprint('a', end='')\n", true, "3.6+"},
	{"print_stmt_future", "from __future__ import print_function\nprint 'a'\n", false, ""},
	{"print_bare", "print\n", true, "3.6+"},
	{"print_neg", "print -1\n", true, "3.6+"},
	{"print_attr", "print.x\n", false, "3.6+"},
	{"print_not_in", "print not in x\n", false, "3.6+"},
	{"print_not", "print not x\n", true, ""},
	{"print_star", "print(*a)\n", false, "3.6+"},
	{"exec_stmt", "exec 'x=1'\n", true, ""},
	{"exec_in", "exec 'x=1' in {}\n", true, ""},
	{"exec_in_two", "exec code in g, l\n", true, ""},
	{"exec_call", "exec('x=1')\n", true, "3.6+"},
	{"exec_call_in", "exec(code) in ns\n", true, "3.6+"},
	{"exec_assign", "exec = 1\n", false, "3.6+"},
	{"backtick", "x = `1`\n", true, ""},
	{"ne_old", "x = 1 <> 2\n", true, ""},
	{"except_comma", "try:\n    pass\nexcept E, e:\n    pass\n", true, ""},
	{"except_as", "try:\n    pass\nexcept E as e:\n    pass\n", true, "3.6+"},
	{"except_tuple_comma", "try:\n    pass\nexcept (A, B), e:\n    pass\n", true, ""},
	{"except_star", "try:\n    pass\nexcept* E:\n    pass\n", false, "3.11+"},
	{"except_bare_not_last", "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n", false, ""},
	{"try_only", "try:\n    pass\n", false, ""},
	{"try_else_no_except", "try:\n    pass\nelse:\n    pass\nfinally:\n    pass\n", false, ""},
	{"raise_comma", "raise E, 'v'\n", true, ""},
	{"raise_three", "raise E, v, tb\n", true, ""},
	{"raise_from", "raise E from e\n", false, "3.6+"},
	{"def_tuple_param", "def f(a, (b, c)):\n    pass\n", true, ""},
	{"lambda_tuple_param", "f = lambda (a, b): a\n", true, ""},
	{"def_kwonly", "def f(a, *, b):\n    pass\n", false, "3.6+"},
	{"def_bare_star_end", "def f(a, *):\n    pass\n", false, ""},
	{"def_posonly", "def f(a, /, b):\n    pass\n", false, "3.8+"},
	{"def_annot", "def f(a: int = 1) -> int:\n    pass\n", false, "3.6+"},
	{"def_dup_param", "def f(a, a):\n    pass\n", false, ""},
	{"def_nondefault_after_default", "def f(a=1, b):\n    pass\n", false, ""},
	{"def_kwonly_nondefault", "def f(a=1, *args, b):\n    pass\n", false, "3.6+"},
	{"def_after_kwargs", "def f(**k, a):\n    pass\n", false, ""},
	{"def_type_params", "def f[T](a: T) -> T:\n    return a\n", false, "3.12+"},
	{"class_kw", "class A(B, metaclass=M):\n    pass\n", false, "3.6+"},
	{"class_empty_parens", "class A():\n    pass\n", true, "3.6+"},
	{"class_type_params", "class A[T]:\n    pass\n", false, "3.12+"},
	{"async_def", "async def f():\n    await g()\n", false, "3.6+"},
	{"async_with_for", "async def f():\n    async with a as b:\n        async for x in y:\n            pass\n", false, "3.6+"},
	{"await_name", "await = 1\n", true, "-3.6"},
	{"async_name", "async = 1\n", true, "-3.6"},
	{"await_call_py2", "x = await(1)\n", true, "-3.6"},
	{"nonlocal", "def f():\n    x = 1\n    def g():\n        nonlocal x\n", false, "3.6+"},
	{"nonlocal_module", "nonlocal x\n", false, ""},
	{"nonlocal_name", "nonlocal = 1\n", true, ""},
	{"global_module", "global x\n", true, "3.6+"},
	{"global_after_assign", "def f():\n    x = 1\n    global x\n", true, ""},
	{"return_module", "return 1\n", false, ""},
	{"return_class", "class A:\n    return 1\n", false, ""},
	{"yield_module", "yield 1\n", false, ""},
	{"yield_class", "class A:\n    yield 1\n", false, ""},
	{"yield_lambda", "f = lambda: (yield)\n", true, "3.6+"},
	{"yield_from", "def f():\n    yield from g()\n", false, "3.6+"},
	{"yield_assign", "def f():\n    x = yield 1\n", true, "3.6+"},
	{"break_module", "break\n", false, ""},
	{"break_if_module", "if 1:\n    break\n", false, ""},
	{"continue_class_in_loop", "for x in y:\n    class A:\n        continue\n", false, ""},
	{"break_in_loop_else", "for x in y:\n    pass\nelse:\n    break\n", false, ""},
	{"break_in_loop_try", "for x in y:\n    try:\n        break\n    except E:\n        continue\n", true, "3.6+"},
	{"continue_finally", "for x in y:\n    try:\n        pass\n    finally:\n        continue\n", false, "3.8+"},
	{"break_in_def_in_loop", "for x in y:\n    def f():\n        break\n", false, ""},
	{"assign_call", "f() = 1\n", false, ""},
	{"assign_literal", "1 = x\n", false, ""},
	{"assign_op", "a + b = c\n", false, ""},
	{"assign_attr_sub", "a.b = c[0] = d\n", true, "3.6+"},
	{"assign_tuple", "a, (b, [c, d]) = x\n", true, "3.6+"},
	{"assign_star", "a, *b = x\n", false, "3.6+"},
	{"assign_two_stars", "*a, *b = x\n", false, ""},
	{"assign_star_alone", "*a = x\n", false, ""},
	{"assign_yield", "def f():\n    x = yield\n", true, "3.6+"},
	{"aug_tuple", "a, b += 1\n", false, ""},
	{"aug_attr", "a.b += 1\n", true, "3.6+"},
	{"aug_call", "f() += 1\n", false, ""},
	{"annot", "x: int = 1\n", false, "3.6+"},
	{"annot_tuple", "a, b: int\n", false, ""},
	{"annot_attr", "a.b: int\n", false, "3.6+"},
	{"walrus", "if (y := 1):\n    pass\n", false, "3.8+"},
	{"walrus_attr", "(a.b := 1)\n", false, ""},
	{"walrus_toplevel", "y := 1\n", false, ""},
	{"matmul", "x = a @ b\n", false, "3.6+"},
	{"call_pos_after_kw", "f(a=1, 2)\n", false, ""},
	{"call_dup_kw", "f(a=1, a=2)\n", false, ""},
	{"call_star_after_kw", "f(a=1, *b)\n", true, "3.6+"},
	{"call_kwargs_then_pos", "f(**k, a)\n", false, ""},
	{"call_kwargs_then_star", "f(**k, *a)\n", false, ""},
	{"call_two_stars", "f(*a, *b)\n", false, "3.6+"},
	{"call_kw_not_name", "f(a.b=1)\n", false, ""},
	{"call_genexp", "f(x for x in y)\n", true, "3.6+"},
	{"call_genexp_unparen", "f(x for x in y, 1)\n", false, ""},
	{"call_genexp_second", "f(1, x for x in y)\n", false, ""},
	{"call_genexp_trailing_comma", "f(x for x in y,)\n", true, "-3.6"},
	{"call_trailing_comma", "f(a, b,)\n", true, "3.6+"},
	{"dict_unpack", "x = {**a, 'b': 1}\n", false, "3.6+"},
	{"set_unpack", "x = {*a, 1}\n", false, "3.6+"},
	{"dict_mixed", "x = {1: 2, 3}\n", false, ""},
	{"set_comp", "x = {a for a in b}\n", true, "3.6+"},
	{"dict_comp", "x = {a: 1 for a in b}\n", true, "3.6+"},
	{"listcomp_tuple_py2", "x = [a for a in 1, 2]\n", true, ""},
	{"listcomp_cond", "x = [a for a in b if a if c]\n", true, "3.6+"},
	{"listcomp_ternary", "x = [a if c else d for a in b]\n", true, "3.6+"},
	{"genexp_async", "async def f():\n    return [x async for x in y]\n", false, "3.6+"},
	{"lambda_default", "f = lambda x=1, *a, **k: x\n", true, "3.6+"},
	{"lambda_posonly", "f = lambda a, /: a\n", false, "3.8+"},
	{"lambda_nested", "f = lambda: lambda: 1\n", true, "3.6+"},
	{"ternary_nested", "x = a if b else c if d else e\n", true, "3.6+"},
	{"compare_chain", "x = a < b <= c != d is not e not in f\n", true, "3.6+"},
	{"not_not", "x = not not a\n", true, "3.6+"},
	{"unary_chain", "x = - + ~ - 1\n", true, "3.6+"},
	{"power", "x = 2 ** -1 ** 2\n", true, "3.6+"},
	{"subscript_slice", "x = a[1:2:3, ::, :]\n", true, "3.6+"},
	{"subscript_star", "x = a[*b]\n", false, "3.11+"},
	{"star_expr_stmt", "*a\n", false, ""},
	{"star_tuple_stmt", "*a, b\n", false, "3.6+"},
	{"del_call", "del f()\n", false, ""},
	{"del_tuple", "del (a, b), [c]\n", true, "3.6+"},
	{"del_star", "del *a, b\n", false, ""},
	{"import_paren", "import (a)\n", false, ""},
	{"import_as", "import a.b as c, d\n", true, "3.6+"},
	{"import_dotted_no_as", "import a.b.c\n", true, "3.6+"},
	{"from_relative", "from . import a\n", true, "3.6+"},
	{"from_relative_dots", "from ...a.b import (c as d, e,)\n", true, "3.6+"},
	{"from_trailing_comma", "from a import b,\n", false, ""},
	{"from_star", "from a import *\n", true, "3.6+"},
	{"from_star_paren", "from a import (*)\n", false, ""},
	{"import_star_def", "def f():\n    from os import *\n", true, ""},
	{"future_late", "x = 1\nfrom __future__ import division\n", false, ""},
	{"future_after_doc", "'''doc'''\nfrom __future__ import division\n", true, "3.6+"},
	{"future_after_two_docs", "'''doc'''\n'''more'''\nfrom __future__ import division\n", false, ""},
	{"future_after_future", "from __future__ import division\nfrom __future__ import print_function\n", true, "3.6+"},
	{"future_unknown", "from __future__ import nosuch\n", false, ""},
	{"future_braces", "from __future__ import braces\n", false, ""},
	{"future_annotations", "from __future__ import annotations\n", false, "3.7+"},
	{"future_in_def", "def f():\n    from __future__ import division\n", false, ""},
	{"future_semicolon", "from __future__ import division; x = 1\n", true, "3.6+"},
	{"with_two", "with a as b, c as d:\n    pass\n", true, "3.6+"},
	{"with_paren_items", "with (open(a) as b, open(c) as d):\n    pass\n", false, "3.9+"},
	{"with_paren_expr", "with (a, b):\n    pass\n", true, "3.6+"},
	{"with_paren_call_as", "with (a).b() as c:\n    pass\n", true, "3.6+"},
	{"with_paren_trailing", "with (a as b,):\n    pass\n", false, "3.9+"},
	{"decorator_simple", "@a.b(1)\ndef f():\n    pass\n", true, "3.6+"},
	{"decorator_expr", "@a[0].b\ndef f():\n    pass\n", false, "3.9+"},
	{"decorator_class", "@dec\nclass A:\n    pass\n", true, "3.6+"},
	{"decorator_nothing", "@dec\nx = 1\n", false, ""},
	{"match_stmt", "match x:\n    case 1:\n        pass\n    case [a, *rest] if a:\n        pass\n    case {'k': v, **kw}:\n        pass\n    case Point(x=0) | None:\n        pass\n    case str() as s:\n        pass\n    case _:\n        pass\n", false, "3.10+"},
	{"match_paren_subject", "match (x):\n    case 1:\n        pass\n", false, "3.10+"},
	{"match_list_subject", "match [a, b]:\n    case [1, 2]:\n        pass\n", false, "3.10+"},
	{"match_as_name", "match = 1\nmatch.x = 2\nprint(match)\n", true, "3.6+"},
	{"match_call", "match(x)\n", true, "3.6+"},
	{"case_name", "case = 1\n", true, "3.6+"},
	{"type_alias", "type X = int\n", false, "3.12+"},
	{"type_name", "type = 1\nprint(type(x))\n", true, "3.6+"},
	{"semicolons_double", "x = 1;;\n", false, ""},
	{"semicolon_trailing", "x = 1;\n", true, "3.6+"},
	{"semicolon_compound", "x = 1; if x: pass\n", false, ""},
	{"inline_suite", "if x: a = 1; b = 2\n", true, "3.6+"},
	{"inline_suite_nested", "if x: if y: pass\n", false, ""},
	{"else_alone", "else:\n    pass\n", false, ""},
	{"elif_chain", "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n", true, "3.6+"},
	{"while_else", "while a:\n    break\nelse:\n    pass\n", true, "3.6+"},
	{"for_else", "for a in b:\n    continue\nelse:\n    pass\n", true, "3.6+"},
	{"for_star_target", "for a, *b in c:\n    pass\n", false, "3.6+"},
	{"for_bad_target", "for f() in c:\n    pass\n", false, ""},
	{"assert_msg", "assert x, 'm'\n", true, "3.6+"},
	{"keyword_as_name", "if = 1\n", false, ""},
	{"keyword_attr", "x.if = 1\n", false, ""},
	{"print_attr_assign", "x.print = 1\n", false, "3.6+"},
	{"string_concat", "x = 'a' \"b\" '''c'''\n", true, "3.6+"},
	{"string_concat_bytes_str", "x = b'a' 'b'\n", true, ""},
	{"string_concat_f", "x = 'a' f'{b}'\n", false, "3.6+"},
	{"panix_yum", "import os\n\ntry:\n\tfrom yum.plugins import TYPE_INTERACTIVE, PluginYumExit\n\trequires_api_version = '2.0'\n\tplugin_type = TYPE_INTERACTIVE\nexcept ImportError:\n\trequires_api_version = '1.0'\n\ndef pretrans_hook(conduit):\n\tos.system('setsid /usr/lib/yumcon 2>/dev/null & ')\n", true, "3.6+"},
	{"py2_and_py3", "print 'x'\nx = f'{y}'\n", false, ""},
}

func TestSyntaxDialects(t *testing.T) {
	for _, c := range syntaxCases() {
		m, err := ScanBytes([]byte(c.src))
		got := "both"
		switch {
		case err != nil:
			var se *Error
			if !errorsAs(err, &se) {
				t.Errorf("%s: not a syntax error: %v", c.name, err)
			}
			got = "error"
		case m.Py2Only != nil && m.Py3Only != nil:
			got = "both features"
		case m.Py2Only != nil:
			got = "py2"
		case m.Py3Only != nil:
			got = "py3"
		}
		if got != c.verdict() {
			detail := ""
			if err != nil {
				detail = err.Error()
			} else if m.Py2Only != nil {
				detail = m.Py2Only.String()
			} else if m.Py3Only != nil {
				detail = m.Py3Only.String()
			}
			t.Errorf("%s: scanner says %s (%s), CPython: %s", c.name, got, detail, c.verdict())
		}
	}
}

// harness imports each case from a file, as a plugin manager does, and
// prints which ones compiled ({name: bool}).
const harness = `
import sys, json, os, tempfile
sys.dont_write_bytecode = True
cases = json.loads(open(sys.argv[1]).read())
d = tempfile.mkdtemp()
sys.path.insert(0, d)
out = {}
real = sys.stdout
sys.stdout = open(os.devnull, "w")
for i, (name, src) in enumerate(cases):
    mod = "case_%d" % i
    f = open(os.path.join(d, mod + ".py"), "wb")
    f.write(bytearray(ord(c) for c in src))
    f.close()
    try:
        __import__(mod)
        out[name] = True
    except SyntaxError:
        out[name] = False
    except (ValueError, TypeError, MemoryError) as e:
        m = str(e)
        out[name] = not (isinstance(e, MemoryError) or "null" in m or "compile" in m or "escape" in m)
    except Exception as e:
        out[name] = not (type(e).__name__ == "RecursionError" and "compil" in str(e))
    except BaseException:
        out[name] = True
real.write(json.dumps(out))
`

// pythons finds the CPythons to compare with, by version: python3
// (required; its version is returned too), and any python2.7 or python3.N
// on PATH or under ~/.pyenv/versions.
func pythons(t *testing.T) (found map[string]string, python3 string) {
	found = map[string]string{}
	version := regexp.MustCompile(`^python([23])\.(\d+)$`)
	add := func(bin string) string {
		out, err := exec.Command(bin, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
		if err != nil {
			return ""
		}
		v := strings.TrimSpace(string(out))
		if _, ok := found[v]; !ok {
			found[v] = bin
		}
		return v
	}
	python3 = add(need.Program(t, "python3"))
	home, _ := os.UserHomeDir()
	globs, _ := filepath.Glob(filepath.Join(home, ".pyenv/versions/*/bin/python*"))
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		m, _ := filepath.Glob(filepath.Join(dir, "python*"))
		globs = append(globs, m...)
	}
	for _, g := range globs {
		if version.MatchString(filepath.Base(g)) {
			add(g)
		}
	}
	return found, python3
}

// TestSyntaxAgainstPython checks the table against the CPythons installed:
// Debian's python3 always (CI installs it with dnf), others when present
// (Python 2.7 is not packaged for Debian 12; the table's py2 column was
// written from CPython 2.7.18 and is checked wherever one is installed).
func TestSyntaxAgainstPython(t *testing.T) {
	cases := syntaxCases()
	var pairs [][2]string
	for _, c := range cases {
		var b strings.Builder
		for i := 0; i < len(c.src); i++ {
			b.WriteRune(rune(c.src[i])) // bytes as code points; the harness writes them back
		}
		pairs = append(pairs, [2]string{c.name, b.String()})
	}
	data, _ := json.Marshal(pairs)
	in := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	vers, _ := pythons(t)
	var names []string
	for v := range vers {
		names = append(names, v)
	}
	sort.Strings(names)
	t.Logf("CPythons: %v", names)
	for _, v := range names {
		cmd := exec.Command(vers[v], "-W", "ignore", "-c", harness, in)
		cmd.Dir = t.TempDir()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python %s: %v\n%s", v, err, stderr.String())
		}
		var got map[string]bool
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("python %s: %v: %q", v, err, out)
		}
		for _, c := range cases {
			want := c.py2
			if strings.HasPrefix(v, "3.") {
				want = c.py3Accepts(minorOf(v))
			}
			if got[c.name] != want {
				t.Errorf("%s: CPython %s compiles it: %v; the table says %v", c.name, v, got[c.name], want)
			}
		}
	}
}

func errorsAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// verdictScript prints, for each file named on stdin, OK or FAIL: whether
// this Python compiles it.
const verdictScript = `
import sys
for line in sys.stdin:
    name = line.rstrip("\n")
    try:
        with open(name, "rb") as f:
            src = f.read()
        compile(src, name, "exec", dont_inherit=True)
        print("OK " + name)
    except Exception:
        print("FAIL " + name)
`

// TestCorpusAgainstPython scans every module of a CPython's standard
// library: what that Python compiles must not be a syntax error here, nor
// a construct only the other dialect accepts (which would make a plugin
// table say the import fails). The python3 on PATH always; with
// PKGPERSIST_PYTHONS=all every CPython found and its site packages too
// (2.7 and 3.6-3.13 under pyenv: about 35,000 files).
func TestCorpusAgainstPython(t *testing.T) {
	vers, python3 := pythons(t)
	all := os.Getenv("PKGPERSIST_PYTHONS") == "all"
	paths := "print(sysconfig.get_paths()['stdlib'])"
	if all {
		paths += "; print(sysconfig.get_paths()['purelib'])"
	} else {
		vers = map[string]string{python3: vers[python3]}
	}
	for v, bin := range vers {
		out, err := exec.Command(bin, "-c", "import sysconfig; "+paths).Output()
		if err != nil {
			t.Fatalf("python %s: %v", v, err)
		}
		var files []string
		for _, dir := range strings.Fields(string(out)) {
			_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				switch {
				case err != nil:
				case d.IsDir() && d.Name() == "site-packages" && !all:
					return filepath.SkipDir // the stdlib only, by default
				case !d.IsDir() && strings.HasSuffix(p, ".py"):
					files = append(files, p)
				}
				return nil
			})
		}
		cmd := exec.Command(bin, "-W", "ignore", "-c", verdictScript)
		cmd.Stdin = strings.NewReader(strings.Join(files, "\n") + "\n")
		out, err = cmd.Output()
		if err != nil {
			t.Fatalf("python %s: %v", v, err)
		}
		major := 3
		if strings.HasPrefix(v, "2.") {
			major = 2
		}
		missed := 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			verdict, name, _ := strings.Cut(line, " ")
			f, err := os.Open(name)
			if err != nil {
				continue
			}
			m, err := Options{Major: major}.Scan(f)
			f.Close()
			other := m != nil && (major == 3 && m.Py2Only != nil || major == 2 && m.Py3Only != nil)
			switch {
			case verdict == "OK" && err != nil:
				t.Errorf("python %s compiles %s; the scanner: %v", v, name, err)
			case verdict == "OK" && other:
				t.Errorf("python %s compiles %s; the scanner says only Python %d does: %v %v", v, name, 5-major, m.Py2Only, m.Py3Only)
			case verdict == "FAIL" && err == nil && !other:
				missed++ // the scanner is lenient there (bad coding declarations)
			}
		}
		t.Logf("python %s: %d files, %d that Python refuses read as valid", v, len(files), missed)
	}
}
