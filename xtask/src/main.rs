fn main() {
    for k in agentos_event_schema::catalog::SchemaKind::ALL {
        if std::env::args().nth(1).as_deref() == Some(k.name()) {
            print!("{}", k.rendered());
        }
    }
}
