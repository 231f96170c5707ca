package com.inductiveautomation.ignition.common.gson;

public final class JsonNull extends JsonElement {
    public static final JsonNull INSTANCE = new JsonNull();
    @Override void write(StringBuilder out) { out.append("null"); }
    @Override public boolean equals(Object o) { return o instanceof JsonNull; }
    @Override public int hashCode() { return 0; }
}
