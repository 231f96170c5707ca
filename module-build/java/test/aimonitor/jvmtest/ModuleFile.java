package aimonitor.jvmtest;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** A .modl read with java.util.zip and the JDK XML parser, independent of the TypeScript reader. */
final class ModuleFile {
    final Map<String, byte[]> entries = new LinkedHashMap<>();
    final Map<String, String> hooks = new LinkedHashMap<>();
    /** jar file name -> scope letters */
    final Map<String, String> jars = new LinkedHashMap<>();
    final Path jarDir;
    String moduleId;

    private ModuleFile(Path jarDir) { this.jarDir = jarDir; }

    static ModuleFile read(Path modl, Path jarDir) throws Exception {
        ModuleFile m = new ModuleFile(jarDir);
        try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(modl))) {
            for (ZipEntry e = zin.getNextEntry(); e != null; e = zin.getNextEntry()) {
                if (!e.isDirectory()) m.entries.put(e.getName(), zin.readAllBytes());
            }
        }
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(m.entries.get("module.xml")));
        Element module = (Element) doc.getDocumentElement().getElementsByTagName("module").item(0);
        m.moduleId = module.getElementsByTagName("id").item(0).getTextContent();
        NodeList hooks = module.getElementsByTagName("hook");
        for (int i = 0; i < hooks.getLength(); i++) {
            Element h = (Element) hooks.item(i);
            m.hooks.put(h.getAttribute("scope"), h.getTextContent());
        }
        NodeList jars = module.getElementsByTagName("jar");
        Files.createDirectories(jarDir);
        for (int i = 0; i < jars.getLength(); i++) {
            Element j = (Element) jars.item(i);
            m.jars.put(j.getTextContent(), j.getAttribute("scope"));
            Files.write(jarDir.resolve(j.getTextContent()), m.entries.get(j.getTextContent()));
        }
        return m;
    }

    int entryCount() { return entries.size(); }

    /** The jars a scope loads: every jar whose scope letters include it. */
    URL[] jarUrls(String scope) throws Exception {
        List<URL> out = new ArrayList<>();
        for (Map.Entry<String, String> j : jars.entrySet()) {
            if (j.getValue().contains(scope) || "A".equals(j.getValue())) out.add(jarDir.resolve(j.getKey()).toUri().toURL());
        }
        return out.toArray(new URL[0]);
    }

    /** Checks signatures.properties with the JDK: Properties.load, PKCS#7 via CertificateFactory, SHA256withRSA. */
    int verifySignatures() throws Exception {
        Properties sigs = new Properties();
        try (InputStream in = new ByteArrayInputStream(entries.get("signatures.properties"))) {
            sigs.load(in);
        }
        Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(entries.get("certificates.p7b")));
        if (certs.isEmpty()) throw new AssertionError("certificates.p7b holds no certificate");
        Certificate leaf = certs.iterator().next();
        int verified = 0;
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            if (e.getKey().equals("signatures.properties") || e.getKey().equals("certificates.p7b")) continue;
            String b64 = sigs.getProperty("/" + e.getKey());
            if (b64 == null) throw new AssertionError(e.getKey() + " has no signature");
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(leaf);
            s.update(e.getValue());
            if (!s.verify(Base64.getDecoder().decode(b64))) throw new AssertionError("signature of " + e.getKey() + " does not verify");
            verified++;
        }
        if (sigs.size() != verified) throw new AssertionError(sigs.size() + " signatures for " + verified + " files");
        return verified;
    }
}
