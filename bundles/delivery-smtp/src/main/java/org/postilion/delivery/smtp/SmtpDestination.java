package org.postilion.delivery.smtp;

/**
 * What a session to an SMTP site is opened with: the hosts to try and the queue's {@code smtp.*}
 * settings, with the EHLO name the egress source asks for. Carried as the site's route.
 */
record SmtpDestination(Route route, DestinationSettings settings, String ehloName) {

  /** What else, besides the site, a connection is made with and cannot change later. */
  String variant() {
    return "tls=" + settings.tls().name().toLowerCase(java.util.Locale.ROOT) + " ehlo=" + ehloName;
  }
}
