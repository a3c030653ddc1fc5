from nurse_app.cli import main

raise SystemExit(main())
