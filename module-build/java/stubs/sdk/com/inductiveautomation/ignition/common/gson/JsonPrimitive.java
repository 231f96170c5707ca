package com.inductiveautomation.ignition.common.gson;

public final class JsonPrimitive extends JsonElement {
    private final Object value;
    public JsonPrimitive(String value) { this.value = value; }
    public JsonPrimitive(Number value) { this.value = value; }
    public JsonPrimitive(Boolean value) { this.value = value; }
    public boolean isString() { return value instanceof String; }
    public boolean isNumber() { return value instanceof Number; }
    public boolean isBoolean() { return value instanceof Boolean; }
    @Override public String getAsString() { return String.valueOf(value); }
    @Override public Number getAsNumber() {
        if (value instanceof Number) return (Number) value;
        return Double.valueOf(String.valueOf(value));
    }
    @Override public boolean getAsBoolean() {
        return value instanceof Boolean ? (Boolean) value : Boolean.parseBoolean(String.valueOf(value));
    }
    @Override void write(StringBuilder out) {
        if (value instanceof String) quote((String) value, out);
        else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) out.append((long) d); else out.append(d);
        } else out.append(value);
    }
    @Override public boolean equals(Object o) { return o instanceof JsonPrimitive && ((JsonPrimitive) o).toString().equals(toString()); }
    @Override public int hashCode() { return toString().hashCode(); }
}
