package org.postilion.bounce.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.bounce.Report;
import org.postilion.api.bounce.ReportReader;
import org.postilion.api.config.NodeId;
import org.postilion.api.delivery.Response;
import org.postilion.api.message.TraceHeader;

/**
 * The server's report reader: the classifier in force classifies, and trace headers are read with
 * the key of {@code etc/postilion-trace.key} (made at first start).
 */
@Component(service = ReportReader.class, immediate = true)
public class ReportReaderComponent implements ReportReader {
  private static final BounceClassifier NONE =
      (Response response) -> BounceClassifier.UNCATEGORIZED;

  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile BounceClassifier classifier;

  private ReportParser parser;

  @Activate
  void activate() throws IOException {
    TraceHeader traces =
        TraceHeader.fromKeyFile(
            Path.of(System.getProperty("karaf.etc", "etc"), "postilion-trace.key"));
    parser =
        new ReportParser(
            () -> {
              BounceClassifier current = classifier;
              return current == null ? NONE : current;
            },
            traces,
            Clock.systemUTC(),
            NodeId.in(Path.of(System.getProperty("karaf.data", "data"))));
  }

  @Override
  public Report read(InputStream message) throws IOException {
    return parser.read(message);
  }
}
