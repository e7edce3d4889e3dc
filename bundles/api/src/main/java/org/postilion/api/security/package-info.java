/** Checking credentials against Karaf's JAAS realms, shared by the SMTP and HTTP listeners. */
package org.postilion.api.security;
