package com.inductiveautomation.ignition.common.gson;

import java.util.ArrayList;
import java.util.Iterator;

public final class JsonArray extends JsonElement implements Iterable<JsonElement> {
    private final ArrayList<JsonElement> elements = new ArrayList<>();
    public void add(JsonElement element) { elements.add(element == null ? JsonNull.INSTANCE : element); }
    public void add(String string) { add(string == null ? JsonNull.INSTANCE : new JsonPrimitive(string)); }
    public void add(Number number) { add(number == null ? JsonNull.INSTANCE : new JsonPrimitive(number)); }
    public void add(Boolean bool) { add(bool == null ? JsonNull.INSTANCE : new JsonPrimitive(bool)); }
    public int size() { return elements.size(); }
    public JsonElement get(int i) { return elements.get(i); }
    @Override public Iterator<JsonElement> iterator() { return elements.iterator(); }
    @Override void write(StringBuilder out) {
        out.append('[');
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) out.append(',');
            elements.get(i).write(out);
        }
        out.append(']');
    }
    @Override public boolean equals(Object o) { return o instanceof JsonArray && ((JsonArray) o).elements.equals(elements); }
    @Override public int hashCode() { return elements.hashCode(); }
}
