package com.inductiveautomation.ignition.common.gson;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

public final class JsonObject extends JsonElement {
    private final LinkedHashMap<String, JsonElement> members = new LinkedHashMap<>();
    public void add(String property, JsonElement value) { members.put(property, value == null ? JsonNull.INSTANCE : value); }
    public JsonElement remove(String property) { return members.remove(property); }
    public void addProperty(String property, String value) { add(property, value == null ? JsonNull.INSTANCE : new JsonPrimitive(value)); }
    public void addProperty(String property, Number value) { add(property, value == null ? JsonNull.INSTANCE : new JsonPrimitive(value)); }
    public void addProperty(String property, Boolean value) { add(property, value == null ? JsonNull.INSTANCE : new JsonPrimitive(value)); }
    public Set<Map.Entry<String, JsonElement>> entrySet() { return members.entrySet(); }
    public Set<String> keySet() { return members.keySet(); }
    public int size() { return members.size(); }
    public boolean has(String memberName) { return members.containsKey(memberName); }
    public JsonElement get(String memberName) { return members.get(memberName); }
    public JsonObject getAsJsonObject(String memberName) { return (JsonObject) members.get(memberName); }
    public JsonArray getAsJsonArray(String memberName) { return (JsonArray) members.get(memberName); }
    public JsonPrimitive getAsJsonPrimitive(String memberName) { return (JsonPrimitive) members.get(memberName); }
    @Override void write(StringBuilder out) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, JsonElement> e : members.entrySet()) {
            if (!first) out.append(',');
            first = false;
            quote(e.getKey(), out);
            out.append(':');
            e.getValue().write(out);
        }
        out.append('}');
    }
    @Override public boolean equals(Object o) { return o instanceof JsonObject && ((JsonObject) o).members.equals(members); }
    @Override public int hashCode() { return members.hashCode(); }
}
