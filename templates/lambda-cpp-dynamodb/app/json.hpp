// A small JSON reader and string escaper: enough for Lambda events and
// DynamoDB answers, with nothing to install.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace json {

struct Value {
	enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
	bool b = false;
	std::string s; // a string's text, or a number as written
	std::vector<Value> items;
	std::map<std::string, Value> fields;

	// The member `key` of an object, or a null value.
	const Value &operator[](const std::string &key) const;
	// The string's text, or `fallback` for anything else.
	std::string str(const std::string &fallback = "") const;
};

struct ParseError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Throws ParseError on anything that is not one complete JSON text.
Value parse(const std::string &text);

// `s` as a JSON string literal, quotes included.
std::string quote(const std::string &s);

} // namespace json
