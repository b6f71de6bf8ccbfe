package org.edgecpm.demo.core;

import java.util.List;

/**
 * The app's command line and protocol lines, printed from the JVM, so that the end-to-end test
 * (tests/android/test_fake_device.py) runs exactly what the app would run, not a copy of it.
 *
 *   command NATIVE_LIB_DIR BUNDLE_DIR THREADS [speculative]   argv, one argument per line
 *   env                                                        KEY=VALUE lines
 *   prompt TEXT MAX_TOKENS                                     a greedy turn's stdin line
 *   stop | reset                                               those lines
 */
public final class ProtocolTool {
    private ProtocolTool() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            usage();
        }
        switch (args[0]) {
            case "command": {
                if (args.length < 4) usage();
                boolean spec = args.length > 4 && args[4].equals("speculative");
                ChatSettings settings = new ChatSettings(0, 1, 1, spec);
                List<String> argv = RunnerCommand.chat(args[1], args[2], settings, Integer.parseInt(args[3]));
                for (String arg : argv) System.out.println(arg);
                break;
            }
            case "env":
                for (java.util.Map.Entry<String, String> e : RunnerCommand.environment().entrySet()) {
                    System.out.println(e.getKey() + "=" + e.getValue());
                }
                break;
            case "prompt":
                if (args.length != 3) usage();
                System.out.println(ChatProtocol.prompt(args[1], new ChatSettings(0, 1, Integer.parseInt(args[2]), false)));
                break;
            case "stop":
                System.out.println(ChatProtocol.STOP);
                break;
            case "reset":
                System.out.println(ChatProtocol.RESET);
                break;
            default:
                usage();
        }
    }

    private static void usage() {
        System.err.println("usage: ProtocolTool command NATIVE_LIB_DIR BUNDLE_DIR THREADS [speculative] | env | "
                + "prompt TEXT MAX_TOKENS | stop | reset");
        System.exit(2);
    }
}
