#include "json.hpp"

#include <cstdio>

namespace json {

namespace {

const int MAX_DEPTH = 64;

struct Reader {
	const std::string &t;
	size_t i = 0;

	[[noreturn]] void fail(const char *what) const
	{
		throw ParseError(std::string(what) + " at offset " + std::to_string(i));
	}

	void ws()
	{
		while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
			i++;
	}

	void expect(const char *word)
	{
		for (const char *p = word; *p; p++, i++)
			if (i >= t.size() || t[i] != *p)
				fail("invalid literal");
	}

	unsigned hex4()
	{
		if (i + 4 > t.size())
			fail("short \\u escape");
		unsigned v = 0;
		for (int k = 0; k < 4; k++) {
			char c = t[i++];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= unsigned(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= unsigned(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= unsigned(c - 'A' + 10);
			else
				fail("bad \\u escape");
		}
		return v;
	}

	static void utf8(std::string &out, unsigned cp)
	{
		if (cp < 0x80) {
			out += char(cp);
		} else if (cp < 0x800) {
			out += char(0xC0 | (cp >> 6));
			out += char(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out += char(0xE0 | (cp >> 12));
			out += char(0x80 | ((cp >> 6) & 0x3F));
			out += char(0x80 | (cp & 0x3F));
		} else {
			out += char(0xF0 | (cp >> 18));
			out += char(0x80 | ((cp >> 12) & 0x3F));
			out += char(0x80 | ((cp >> 6) & 0x3F));
			out += char(0x80 | (cp & 0x3F));
		}
	}

	unsigned codepoint()
	{
		unsigned cp = hex4();
		if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < t.size() && t[i] == '\\' && t[i + 1] == 'u') {
			i += 2;
			unsigned lo = hex4();
			if (lo < 0xDC00 || lo > 0xDFFF)
				fail("unpaired surrogate");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		return cp;
	}

	std::string string()
	{
		std::string out;
		i++; // the opening quote
		for (;;) {
			if (i >= t.size())
				fail("unterminated string");
			char c = t[i++];
			if (c == '"')
				return out;
			if ((unsigned char)c < 0x20)
				fail("control character in string");
			if (c != '\\') {
				out += c;
				continue;
			}
			if (i >= t.size())
				fail("unterminated escape");
			char e = t[i++];
			switch (e) {
			case '"': case '\\': case '/': out += e; break;
			case 'b': out += '\b'; break;
			case 'f': out += '\f'; break;
			case 'n': out += '\n'; break;
			case 'r': out += '\r'; break;
			case 't': out += '\t'; break;
			case 'u': utf8(out, codepoint()); break;
			default: fail("bad escape");
			}
		}
	}

	std::string number()
	{
		size_t start = i;
		if (t[i] == '-')
			i++;
		size_t digits = i;
		while (i < t.size() && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == 'e' ||
					t[i] == 'E' || t[i] == '+' || t[i] == '-'))
			i++;
		if (i == digits)
			fail("invalid value");
		return t.substr(start, i - start);
	}

	void members(Value &v, int depth)
	{
		v.kind = Value::Object;
		i++;
		ws();
		if (i < t.size() && t[i] == '}') {
			i++;
			return;
		}
		for (;;) {
			ws();
			if (i >= t.size() || t[i] != '"')
				fail("expected a key");
			std::string key = string();
			ws();
			if (i >= t.size() || t[i++] != ':')
				fail("expected ':'");
			v.fields[key] = value(depth + 1);
			ws();
			if (i < t.size() && t[i] == ',') {
				i++;
				continue;
			}
			if (i < t.size() && t[i++] == '}')
				return;
			fail("expected ',' or '}'");
		}
	}

	void elements(Value &v, int depth)
	{
		v.kind = Value::Array;
		i++;
		ws();
		if (i < t.size() && t[i] == ']') {
			i++;
			return;
		}
		for (;;) {
			v.items.push_back(value(depth + 1));
			ws();
			if (i < t.size() && t[i] == ',') {
				i++;
				continue;
			}
			if (i < t.size() && t[i++] == ']')
				return;
			fail("expected ',' or ']'");
		}
	}

	Value value(int depth)
	{
		if (depth > MAX_DEPTH)
			fail("nested too deep");
		ws();
		if (i >= t.size())
			fail("unexpected end");
		Value v;
		switch (t[i]) {
		case '{': members(v, depth); break;
		case '[': elements(v, depth); break;
		case '"': v.kind = Value::String; v.s = string(); break;
		case 't': expect("true"); v.kind = Value::Bool; v.b = true; break;
		case 'f': expect("false"); v.kind = Value::Bool; break;
		case 'n': expect("null"); break;
		default: v.kind = Value::Number; v.s = number();
		}
		return v;
	}
};

} // namespace

const Value &Value::operator[](const std::string &key) const
{
	static const Value none;
	if (kind != Object)
		return none;
	auto it = fields.find(key);
	return it == fields.end() ? none : it->second;
}

std::string Value::str(const std::string &fallback) const
{
	return kind == String ? s : fallback;
}

Value parse(const std::string &text)
{
	Reader r{text};
	Value v = r.value(0);
	r.ws();
	if (r.i != text.size())
		r.fail("trailing characters");
	return v;
}

std::string quote(const std::string &s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			if (c < 0x20) {
				char esc[8];
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				out += esc;
			} else {
				out += char(c);
			}
		}
	}
	return out + "\"";
}

} // namespace json
