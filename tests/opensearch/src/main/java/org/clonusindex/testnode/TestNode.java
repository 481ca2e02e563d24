package org.clonusindex.testnode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;
import org.opensearch.transport.TransportService;

/**
 * One embedded OpenSearch node for the test suite.
 *
 * <p>Usage: {@code TestNode HOME [-Ekey=value ...]}. Data, logs and config
 * live under HOME. The node binds loopback only; {@code http.port=0} and
 * {@code transport.port=0} (the defaults here) take free ports. When the node
 * has started it prints one line to stdout:
 * {@code READY http=127.0.0.1:PORT transport=127.0.0.1:PORT}. It stops
 * cleanly on SIGTERM, or when its standard input closes (the test process
 * that started it has gone), and then prints {@code STOPPED}.
 */
public final class TestNode extends Node {

    private static final List<Class<? extends Plugin>> PLUGINS =
            List.of(Netty4Plugin.class, CommonAnalysisPlugin.class);

    private TestNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
        // The listener only puts the node and cluster ids into log lines.
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TestNode HOME [-Ekey=value ...]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = home.resolve("config");
        Path logs = home.resolve("logs");
        Files.createDirectories(config);
        Files.createDirectories(logs);
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));
        writeLogConfig(config.resolve("log4j2.properties"));

        Settings.Builder builder = Settings.builder()
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", logs.toString())
                .put("network.host", "127.0.0.1")
                .put("http.port", "0")
                .put("transport.port", "0")
                .put("cluster.routing.allocation.disk.threshold_enabled", false);
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            int eq = arg.indexOf('=');
            if (!arg.startsWith("-E") || eq < 0) {
                System.err.println("TestNode: expected -Ekey=value, got " + arg);
                System.exit(2);
            }
            builder.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        Settings settings = builder.build();
        String nodeName = settings.get("node.name", "node-1");
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings, java.util.Collections.emptyMap(), config, () -> nodeName);
        // Logging takes over System.out; READY and STOPPED go to the real stdout.
        PrintStream stdout = System.out;
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(environment);

        TestNode node = new TestNode(environment, PLUGINS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(node, stdout), "test-node-stop"));
        node.start();

        String http = node.injector().getInstance(HttpServerTransport.class)
                .boundAddress().publishAddress().toString();
        String transport = node.injector().getInstance(TransportService.class)
                .boundAddress().publishAddress().toString();
        stdout.println("READY http=" + http + " transport=" + transport);
        stdout.flush();

        // Stop when the parent closes our stdin: no node outlives its tests.
        InputStream in = System.in;
        byte[] buffer = new byte[256];
        while (in.read(buffer) >= 0) {
            // ignore input
        }
        System.exit(0);
    }

    private static void stop(Node node, PrintStream stdout) {
        try {
            node.close();
            if (node.awaitClose(20, TimeUnit.SECONDS)) {
                stdout.println("STOPPED");
                stdout.flush();
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("TestNode: could not stop cleanly: " + e);
        }
    }

    private static void writeLogConfig(Path path) throws IOException {
        String config = String.join("\n",
                "status = error",
                "appender.file.type = File",
                "appender.file.name = file",
                "appender.file.fileName = ${sys:opensearch.logs.base_path}${sys:file.separator}"
                        + "${sys:opensearch.logs.node_name}.log",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = [%-5p][%c{1.}] %m%n",
                "appender.console.filter.threshold.type = ThresholdFilter",
                "appender.console.filter.threshold.level = warn",
                "rootLogger.level = info",
                "rootLogger.appenderRef.file.ref = file",
                "rootLogger.appenderRef.console.ref = console",
                "");
        Files.write(path, config.getBytes(StandardCharsets.UTF_8));
    }
}
