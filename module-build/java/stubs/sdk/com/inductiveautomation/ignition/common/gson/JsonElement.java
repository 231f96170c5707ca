package com.inductiveautomation.ignition.common.gson;

/** Compile-only stub of IA's shaded Gson (com.inductiveautomation.ignition:ia-gson); small working subset for the JVM test. */
public abstract class JsonElement {
    public boolean isJsonObject() { return this instanceof JsonObject; }
    public boolean isJsonArray() { return this instanceof JsonArray; }
    public boolean isJsonPrimitive() { return this instanceof JsonPrimitive; }
    public boolean isJsonNull() { return this instanceof JsonNull; }
    public JsonObject getAsJsonObject() {
        if (this instanceof JsonObject) return (JsonObject) this;
        throw new IllegalStateException("Not a JSON Object: " + this);
    }
    public JsonArray getAsJsonArray() {
        if (this instanceof JsonArray) return (JsonArray) this;
        throw new IllegalStateException("Not a JSON Array: " + this);
    }
    public JsonPrimitive getAsJsonPrimitive() {
        if (this instanceof JsonPrimitive) return (JsonPrimitive) this;
        throw new IllegalStateException("Not a JSON Primitive: " + this);
    }
    public String getAsString() { throw new UnsupportedOperationException(getClass().getSimpleName()); }
    public Number getAsNumber() { throw new UnsupportedOperationException(getClass().getSimpleName()); }
    public double getAsDouble() { return getAsNumber().doubleValue(); }
    public long getAsLong() { return getAsNumber().longValue(); }
    public int getAsInt() { return getAsNumber().intValue(); }
    public boolean getAsBoolean() { throw new UnsupportedOperationException(getClass().getSimpleName()); }

    abstract void write(StringBuilder out);

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        write(sb);
        return sb.toString();
    }

    static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        out.append('"');
    }
}
