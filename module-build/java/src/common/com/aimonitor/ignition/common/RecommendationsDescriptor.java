package com.aimonitor.ignition.common;

import com.inductiveautomation.ignition.common.gson.JsonElement;
import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.common.gson.JsonParser;
import com.inductiveautomation.ignition.common.jsonschema.JsonSchema;
import com.inductiveautomation.perspective.common.api.BrowserResource;
import com.inductiveautomation.perspective.common.api.ComponentDescriptor;
import com.inductiveautomation.perspective.common.api.ComponentDescriptorImpl;
import com.inductiveautomation.perspective.common.api.ComponentEventDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds the component descriptor shared by the gateway and designer hooks. The props schema,
 * the events and the list of browser files are resources the build puts in the common jar, so
 * the Java side never hard-codes a bundle file name that webpack chose.
 */
public final class RecommendationsDescriptor {
    private RecommendationsDescriptor() { }

    public static ComponentDescriptor create() throws IOException {
        return ComponentDescriptorImpl.ComponentBuilder.newBuilder()
                .setPaletteCategory(AiMonitorComponents.PALETTE_CATEGORY)
                .setId(AiMonitorComponents.RECOMMENDATIONS_COMPONENT_TYPE)
                .setModuleId(AiMonitorComponents.MODULE_ID)
                .setSchema(JsonSchema.parse(open(AiMonitorComponents.PROPS_SCHEMA_RESOURCE)))
                .setName(AiMonitorComponents.RECOMMENDATIONS_NAME)
                .setDefaultMetaName(AiMonitorComponents.RECOMMENDATIONS_META_NAME)
                .setResources(browserResources())
                .setEvents(events())
                .build();
    }

    static InputStream open(String resource) throws IOException {
        InputStream in = RecommendationsDescriptor.class.getResourceAsStream(resource);
        if (in == null) throw new IOException("resource " + resource + " is missing from the common jar");
        return in;
    }

    /** js.N / css.N entries name files under mounted/; each becomes a BrowserResource at /res/aimonitor/... */
    public static Set<BrowserResource> browserResources() throws IOException {
        Properties p = new Properties();
        try (InputStream in = open(AiMonitorComponents.WEB_RESOURCES_RESOURCE)) {
            p.load(in);
        }
        Set<BrowserResource> out = new LinkedHashSet<>();
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            String file = p.getProperty(key);
            BrowserResource.ResourceType type;
            if (key.startsWith("js.")) type = BrowserResource.ResourceType.JS;
            else if (key.startsWith("css.")) type = BrowserResource.ResourceType.CSS;
            else throw new IOException("web-resources.properties: unknown key " + key + " (expected js.N or css.N)");
            String name = "aimonitor-" + key.replace('.', '-');
            out.add(new BrowserResource(name, AiMonitorComponents.resourcePath(file), type));
        }
        if (out.isEmpty()) throw new IOException("web-resources.properties lists no browser file");
        return out;
    }

    /** events.json: [{name, description, schema}], the component events designers can script. */
    static List<ComponentEventDescriptor> events() throws IOException {
        String text;
        try (InputStream in = open(AiMonitorComponents.EVENTS_RESOURCE)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<ComponentEventDescriptor> out = new ArrayList<>();
        for (JsonElement e : JsonParser.parseString(text).getAsJsonArray()) {
            JsonObject o = e.getAsJsonObject();
            byte[] schema = o.get("schema").toString().getBytes(StandardCharsets.UTF_8);
            out.add(new ComponentEventDescriptor(o.get("name").getAsString(), o.get("description").getAsString(),
                    JsonSchema.parse(new ByteArrayInputStream(schema))));
        }
        return out;
    }
}
