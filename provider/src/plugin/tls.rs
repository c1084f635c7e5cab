//! AutoMTLS, as go-plugin does it.
//!
//! Terraform generates a self-signed ECDSA P-521 certificate, passes it in
//! `PLUGIN_CLIENT_CERT` and presents it on every connection. The provider
//! generates its own certificate, sends it (base64 DER) in the handshake
//! line, and accepts only connections whose client certificate is exactly the
//! one Terraform announced. Client authentication is mandatory: a connection
//! without that certificate fails the TLS handshake.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` holds no PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not contain a PEM certificate")]
    NoClientCertificate,
    /// The PEM text could not be parsed.
    #[error("PLUGIN_CLIENT_CERT is not valid PEM")]
    BadPem(#[source] rustls::pki_types::pem::Error),
    /// Generating the server certificate failed.
    #[error("generating the server certificate")]
    Generate(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("building the TLS configuration")]
    Config(#[source] rustls::Error),
}

/// The server's own certificate and key.
pub struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// A fresh self-signed certificate for `localhost` (go-plugin's client
    /// verifies the server name `localhost` against it).
    pub fn generate() -> Result<Self, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(TlsError::Generate)?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).map_err(TlsError::Generate)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "terraform-provider-nested");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key).map_err(TlsError::Generate)?;
        Ok(Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The certificate as the handshake line carries it: standard base64
    /// without padding (`base64.RawStdEncoding` on the Go side).
    pub fn handshake_field(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(self.cert.as_ref())
    }
}

/// Parse the PEM certificate(s) Terraform put in `PLUGIN_CLIENT_CERT`.
pub fn parse_client_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::BadPem)?;
    if certs.is_empty() {
        return Err(TlsError::NoClientCertificate);
    }
    Ok(certs)
}

/// Accepts exactly the pinned client certificate(s); checks the handshake
/// signature with the crypto provider's algorithms (which verify P-521).
#[derive(Debug)]
struct PinnedClientCert {
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn crypto() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Server TLS configuration: TLS ≥ 1.2, ALPN h2 (grpc-go requires it),
/// mandatory client certificate pinned to `client_certs`.
pub fn server_config(
    identity: &ServerIdentity,
    client_certs: Vec<CertificateDer<'static>>,
) -> Result<ServerConfig, TlsError> {
    let provider = crypto();
    let verifier = PinnedClientCert {
        pinned: client_certs,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_field_is_unpadded_base64_of_the_der() {
        use base64::Engine;
        let id = ServerIdentity::generate().unwrap();
        let field = id.handshake_field();
        assert!(!field.ends_with('='));
        let der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&field)
            .unwrap();
        assert_eq!(der, id.cert.as_ref());
        // go-plugin only loads the field as a certificate when it is long.
        assert!(field.len() > 50);
    }

    #[test]
    fn client_cert_pem_must_hold_a_certificate() {
        assert!(matches!(
            parse_client_certs(""),
            Err(TlsError::NoClientCertificate)
        ));
        assert!(
            parse_client_certs("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }

    #[test]
    fn the_verifier_accepts_p521_signatures() {
        let p = crypto();
        let schemes = p.signature_verification_algorithms.supported_schemes();
        assert!(
            schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512),
            "{schemes:?}"
        );
    }
}
