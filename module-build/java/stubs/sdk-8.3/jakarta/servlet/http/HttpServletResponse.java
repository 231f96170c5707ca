package jakarta.servlet.http;

/** Compile-only stub of the servlet response (jakarta.servlet on Ignition 8.3). */
public interface HttpServletResponse {
    void setHeader(String name, String value);
}
