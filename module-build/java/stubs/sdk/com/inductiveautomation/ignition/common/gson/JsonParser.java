package com.inductiveautomation.ignition.common.gson;

/** Stub of Gson's JsonParser: only the static parseString(String) of Gson 2.8.6+. */
public final class JsonParser {
    private final String s;
    private int i;

    private JsonParser(String s) { this.s = s; }

    public static JsonElement parseString(String json) throws JsonSyntaxException {
        JsonParser p = new JsonParser(json);
        JsonElement e = p.value();
        p.ws();
        if (p.i != p.s.length()) throw p.err("trailing characters");
        return e;
    }

    private JsonSyntaxException err(String why) { return new JsonSyntaxException(why + " at offset " + i); }
    private void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
    private char peek() { if (i >= s.length()) throw err("unexpected end"); return s.charAt(i); }
    private void expect(char c) { if (peek() != c) throw err("expected '" + c + "'"); i++; }

    private JsonElement value() {
        ws();
        char c = peek();
        if (c == '{') return object();
        if (c == '[') return array();
        if (c == '"') return new JsonPrimitive(string());
        if (s.startsWith("true", i)) { i += 4; return new JsonPrimitive(true); }
        if (s.startsWith("false", i)) { i += 5; return new JsonPrimitive(false); }
        if (s.startsWith("null", i)) { i += 4; return JsonNull.INSTANCE; }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
        if (start == i) throw err("unexpected character '" + c + "'");
        String num = s.substring(start, i);
        try {
            if (num.matches("-?\\d{1,18}")) return new JsonPrimitive(Long.parseLong(num));
            return new JsonPrimitive(Double.parseDouble(num));
        } catch (NumberFormatException e) {
            throw err("bad number '" + num + "'");
        }
    }

    private JsonObject object() {
        JsonObject o = new JsonObject();
        expect('{');
        ws();
        if (peek() == '}') { i++; return o; }
        while (true) {
            ws();
            String key = string();
            ws();
            expect(':');
            o.add(key, value());
            ws();
            if (peek() == ',') { i++; continue; }
            expect('}');
            return o;
        }
    }

    private JsonArray array() {
        JsonArray a = new JsonArray();
        expect('[');
        ws();
        if (peek() == ']') { i++; return a; }
        while (true) {
            a.add(value());
            ws();
            if (peek() == ',') { i++; continue; }
            expect(']');
            return a;
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = peek();
            i++;
            if (c == '"') return sb.toString();
            if (c != '\\') { sb.append(c); continue; }
            char e = peek();
            i++;
            switch (e) {
                case 'n': sb.append('\n'); break;
                case 't': sb.append('\t'); break;
                case 'r': sb.append('\r'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                default: sb.append(e);
            }
        }
    }
}
