/*
 * The statements of a simple Query as PostgreSQL's lexer sees them: a ';'
 * ends a statement only outside string literals ('...', E'...' with
 * backslash escapes), quoted identifiers ("..."), dollar-quoted strings
 * ($tag$...$tag$) and comments (-- to the end of the line, nested slash-star blocks).
 * Statements holding only blanks and comments are left out, as the server
 * runs nothing for them. The server's own answers decide how many
 * transactions a query makes; this only names their text.
 */
#include <ctype.h>
#include <string.h>

#include "pgsql.h"

static bool ident_start(unsigned char ch)
{
	return isalpha(ch) || ch == '_' || ch >= 0x80;
}

static bool ident_char(unsigned char ch)
{
	return ident_start(ch) || isdigit(ch);
}

/* End of a quoted run opened at q[i] (the quote), doubled quotes kept inside; backslash escapes when esc. */
static size_t skip_quoted(const char *q, size_t n, size_t i, char quote, bool esc)
{
	for (i++; i < n; i++) {
		if (esc && q[i] == '\\') {
			i++;
		} else if (q[i] == quote) {
			if (i + 1 < n && q[i + 1] == quote)
				i++;
			else
				return i + 1;
		}
	}
	return n;
}

/* Length of a dollar-quote tag "$tag$" at q[i], or 0 when q[i] does not open one ($1 is a parameter). */
static size_t dollar_tag(const char *q, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && q[j] == '$')
		return 2;
	if (j >= n || !ident_start((unsigned char)q[j]))
		return 0;
	while (j < n && ident_char((unsigned char)q[j]) && q[j] != '$')
		j++;
	return j < n && q[j] == '$' ? j + 1 - i : 0;
}

static size_t skip_dollar(const char *q, size_t n, size_t i, size_t tag)
{
	for (size_t j = i + tag; j + tag <= n; j++)
		if (q[j] == '$' && memcmp(q + j, q + i, tag) == 0)
			return j + tag;
	return n;
}

static size_t skip_block_comment(const char *q, size_t n, size_t i)
{
	unsigned depth = 0;

	while (i + 1 < n) {
		if (q[i] == '/' && q[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (q[i] == '*' && q[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return n;
}

/* End of the comment at q[i], or i when none starts there. */
static size_t skip_comment(const char *q, size_t n, size_t i)
{
	if (i + 1 < n && q[i] == '-' && q[i + 1] == '-') {
		const char *nl = memchr(q + i, '\n', n - i);

		return nl ? (size_t)(nl - q) + 1 : n;
	}
	if (i + 1 < n && q[i] == '/' && q[i + 1] == '*')
		return skip_block_comment(q, n, i);
	return i;
}

/* End of the token at q[i] (a literal, identifier, comment or one character); *code: not blank, not a comment. */
static size_t token_end(const char *q, size_t n, size_t i, bool *code)
{
	size_t e = skip_comment(q, n, i), tag;
	unsigned char ch = (unsigned char)q[i];

	*code = false;
	if (e != i)
		return e;
	if (isspace(ch))
		return i + 1;
	*code = true;
	if (ch == '\'')
		return skip_quoted(q, n, i, '\'', i > 0 && (q[i - 1] == 'E' || q[i - 1] == 'e'));
	if (ch == '"')
		return skip_quoted(q, n, i, '"', false);
	if (ch == '$' && (tag = dollar_tag(q, n, i)) != 0)
		return skip_dollar(q, n, i, tag);
	if (ident_start(ch)) {
		while (i < n && ident_char((unsigned char)q[i]))
			i++;
		return i;
	}
	return i + 1;
}

void pgsql_trim(const char *q, size_t n, size_t *off, size_t *len)
{
	size_t a = 0, b = n;

	while (a < b && isspace((unsigned char)q[a]))
		a++;
	while (b > a && isspace((unsigned char)q[b - 1]))
		b--;
	*off = a;
	*len = b - a;
}

static uint32_t add_stmt(const char *q, size_t start, size_t end, uint32_t *out, uint32_t k)
{
	size_t off, len;

	pgsql_trim(q + start, end - start, &off, &len);
	out[2 * k] = (uint32_t)(start + off);
	out[2 * k + 1] = (uint32_t)len;
	return k + 1;
}

uint32_t pgsql_split(const char *q, size_t n, uint32_t *out, uint32_t max)
{
	size_t start = 0, i = 0;
	bool code = false, any = false;
	uint32_t k = 0;

	while (i < n && k < max) {
		if (q[i] == ';') {
			if (any)
				k = add_stmt(q, start, i, out, k);
			start = ++i;
			any = false;
			continue;
		}
		i = token_end(q, n, i, &code);
		any |= code;
	}
	if (any && k < max)
		k = add_stmt(q, start, n, out, k);
	return k;
}

size_t pgsql_method(const char *q, size_t n, char *out, size_t cap)
{
	size_t i = 0, k = 0;
	bool code = false;

	while (i < n) { /* past blanks and comments */
		size_t e = token_end(q, n, i, &code);

		if (code)
			break;
		i = e;
	}
	while (i < n && k + 1 < cap && (isalpha((unsigned char)q[i]) || q[i] == '_'))
		out[k++] = (char)toupper((unsigned char)q[i++]);
	out[k] = '\0';
	return k;
}
