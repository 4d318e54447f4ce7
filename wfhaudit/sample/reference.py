"""Reference lists for the synthetic Pemprov Jabar: agencies, offices, names, report phrases.

Coordinates are plausible positions in Bandung (WGS84), not surveyed addresses.
Offices are at least 600 m apart unless shared (``GEDUNG-SATE``), so a check-in at
one agency's office is always outside another's 100 m fence.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Office:
    office_id: str
    name: str
    lat: float
    lon: float
    radius_m: float | None  # None: the policy's office_radius_m


@dataclass(frozen=True)
class Agency:
    unit_code: str
    unit_name: str
    office_id: str
    weight: float  # relative staff size


OFFICES: tuple[Office, ...] = (
    Office("GEDUNG-SATE", "Gedung Sate, Jl. Diponegoro No. 22", -6.902200, 107.618600, 150.0),
    Office(
        "KTR-DISDIK", "Kantor Dinas Pendidikan, Jl. Dr. Radjiman No. 6", -6.905300, 107.597800, None
    ),
    Office("KTR-DINKES", "Kantor Dinas Kesehatan, Jl. Pasteur No. 25", -6.895100, 107.603900, None),
    Office("KTR-BAPPEDA", "Kantor Bappeda, Jl. Ir. H. Juanda No. 287", -6.886900, 107.613700, None),
    Office("KTR-BKD", "Kantor BKD, Jl. Kawaluyaan Indah Raya No. 4", -6.939100, 107.665500, None),
    Office(
        "KTR-BAPENDA", "Kantor Bapenda, Jl. Soekarno-Hatta No. 528", -6.943600, 107.652000, None
    ),
    Office(
        "KTR-DISKOMINFO", "Kantor Diskominfo, Jl. Tamansari No. 55", -6.896300, 107.610300, None
    ),
    Office(
        "KTR-INSPEKTORAT", "Kantor Inspektorat, Jl. Surapati No. 4", -6.899400, 107.628500, None
    ),
    Office("KTR-SATPOLPP", "Kantor Satpol PP, Jl. Cianjur No. 34", -6.911200, 107.631800, None),
    Office(
        "KTR-DISHUB", "Kantor Dinas Perhubungan, Jl. Sukabumi No. 1", -6.915600, 107.625200, None
    ),
    Office("KTR-DPMPTSP", "Kantor DPMPTSP, Jl. Sumatera No. 50", -6.910100, 107.613000, None),
    Office(
        "KTR-DINSOS", "Kantor Dinas Sosial, Jl. Soekarno-Hatta No. 223", -6.937200, 107.584400, None
    ),
    Office("KTR-DPKPP", "Kantor DPKPP, Jl. Kawaluyaan No. 6", -6.933000, 107.675600, None),
    Office(
        "KTR-DISNAKERTRANS",
        "Kantor Disnakertrans, Jl. Soekarno-Hatta No. 532",
        -6.948900,
        107.663000,
        None,
    ),
    Office(
        "KTR-DPMDESA", "Kantor DPM Desa, Jl. Soekarno-Hatta No. 466", -6.944800, 107.640100, None
    ),
    Office(
        "KTR-DISPARBUD",
        "Kantor Disparbud, Jl. R.E. Martadinata No. 209",
        -6.906400,
        107.643700,
        None,
    ),
    Office(
        "KTR-DISPERINDAG",
        "Kantor Disperindag, Jl. Asia Afrika No. 146",
        -6.921600,
        107.616200,
        None,
    ),
    Office("KTR-DKPP", "Kantor DKPP, Jl. Ir. H. Juanda No. 358", -6.878600, 107.618200, None),
    Office("KTR-DLH", "Kantor DLH, Jl. Naripan No. 25", -6.918400, 107.609500, None),
    Office("KTR-DISPORA", "Kantor Dispora, Jl. Pacuan Kuda No. 140", -6.901700, 107.655300, None),
    Office("KTR-BPBD", "Kantor BPBD, Jl. Soekarno-Hatta No. 629", -6.942100, 107.693900, None),
    Office(
        "KTR-DISPUSIPDA",
        "Kantor Dispusipda, Jl. Kawaluyaan Indah II No. 4",
        -6.935800,
        107.659900,
        None,
    ),
    Office("KTR-BPSDM", "Kantor BPSDM, Jl. Windu No. 26", -6.930100, 107.625700, None),
    Office(
        "KTR-KESBANGPOL", "Kantor Kesbangpol, Jl. Supratman No. 44", -6.909700, 107.637600, None
    ),
    Office("KTR-DPPKBP3A", "Kantor DP3AKB, Jl. Pahlawan No. 70", -6.897600, 107.651400, None),
    Office(
        "KTR-DISKUK", "Kantor Dinas KUK, Jl. Soekarno-Hatta No. 705", -6.938400, 107.705800, None
    ),
    Office(
        "KTR-DISTANHORTI", "Kantor Distanhorti, Jl. Surapati No. 71", -6.897000, 107.637900, None
    ),
)

#: Agencies in the order units are taken (``--units 12`` takes the first 12).
AGENCIES: tuple[Agency, ...] = (
    Agency("DISDIK", "Dinas Pendidikan", "KTR-DISDIK", 3.0),
    Agency("DINKES", "Dinas Kesehatan", "KTR-DINKES", 2.0),
    Agency("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "KTR-BAPPEDA", 1.0),
    Agency("BKD", "Badan Kepegawaian Daerah", "KTR-BKD", 1.0),
    Agency("BAPENDA", "Badan Pendapatan Daerah", "KTR-BAPENDA", 1.6),
    Agency("DISKOMINFO", "Dinas Komunikasi dan Informatika", "KTR-DISKOMINFO", 0.9),
    Agency("INSPEKTORAT", "Inspektorat Daerah", "KTR-INSPEKTORAT", 0.8),
    Agency("SATPOLPP", "Satuan Polisi Pamong Praja", "KTR-SATPOLPP", 1.2),
    Agency("DISHUB", "Dinas Perhubungan", "KTR-DISHUB", 1.1),
    Agency("DPMPTSP", "Dinas Penanaman Modal dan PTSP", "KTR-DPMPTSP", 0.8),
    Agency("BIRO-UMUM", "Biro Umum Setda", "GEDUNG-SATE", 0.9),
    Agency("DINSOS", "Dinas Sosial", "KTR-DINSOS", 1.0),
    Agency("BIRO-HUKUM", "Biro Hukum dan HAM Setda", "GEDUNG-SATE", 0.5),
    Agency("BIRO-ORG", "Biro Organisasi Setda", "GEDUNG-SATE", 0.5),
    Agency("BIRO-PEM", "Biro Pemerintahan dan Otonomi Daerah Setda", "GEDUNG-SATE", 0.5),
    Agency("DPKPP", "Dinas Perumahan dan Permukiman", "KTR-DPKPP", 0.9),
    Agency("DISNAKERTRANS", "Dinas Tenaga Kerja dan Transmigrasi", "KTR-DISNAKERTRANS", 0.9),
    Agency("DPMDESA", "Dinas Pemberdayaan Masyarakat dan Desa", "KTR-DPMDESA", 0.7),
    Agency("DISPARBUD", "Dinas Pariwisata dan Kebudayaan", "KTR-DISPARBUD", 0.8),
    Agency("DISPERINDAG", "Dinas Perindustrian dan Perdagangan", "KTR-DISPERINDAG", 0.8),
    Agency("DKPP", "Dinas Ketahanan Pangan dan Peternakan", "KTR-DKPP", 0.8),
    Agency("DLH", "Dinas Lingkungan Hidup", "KTR-DLH", 0.8),
    Agency("DISPORA", "Dinas Pemuda dan Olahraga", "KTR-DISPORA", 0.7),
    Agency("BPBD", "Badan Penanggulangan Bencana Daerah", "KTR-BPBD", 0.7),
    Agency("DISPUSIPDA", "Dinas Perpustakaan dan Kearsipan Daerah", "KTR-DISPUSIPDA", 0.6),
    Agency("BPSDM", "Badan Pengembangan Sumber Daya Manusia", "KTR-BPSDM", 0.7),
    Agency("KESBANGPOL", "Badan Kesatuan Bangsa dan Politik", "KTR-KESBANGPOL", 0.5),
    Agency("DP3AKB", "Dinas Pemberdayaan Perempuan, Perlindungan Anak dan KB", "KTR-DPPKBP3A", 0.7),
    Agency("DISKUK", "Dinas Koperasi dan Usaha Kecil", "KTR-DISKUK", 0.7),
    Agency("DISTANHORTI", "Dinas Tanaman Pangan dan Hortikultura", "KTR-DISTANHORTI", 0.8),
)

#: Places outside Bandung: duty trips and fake-GPS check-ins (lat, lon).
FAR_PLACES: tuple[tuple[str, float, float], ...] = (
    ("Cirebon", -6.732000, 108.552300),
    ("Tasikmalaya", -7.327900, 108.220000),
    ("Garut", -7.212800, 107.903000),
    ("Sukabumi", -6.921700, 106.926000),
    ("Bogor", -6.595000, 106.816700),
    ("Cianjur", -6.816700, 107.133300),
    ("Sumedang", -6.858400, 107.920000),
    ("Purwakarta", -6.556900, 107.443300),
    ("Karawang", -6.305800, 107.302400),
    ("Subang", -6.571400, 107.760500),
)

MALE_FIRST: tuple[str, ...] = (
    "Asep",
    "Dadang",
    "Ujang",
    "Cecep",
    "Deden",
    "Yayat",
    "Agus",
    "Budi",
    "Dedi",
    "Iwan",
    "Rudi",
    "Hendra",
    "Wawan",
    "Ade",
    "Aep",
    "Dede",
    "Endang",
    "Encep",
    "Usep",
    "Jajang",
    "Kurnia",
    "Rahmat",
    "Yusuf",
    "Ahmad",
    "Muhammad",
    "Rizki",
    "Fajar",
    "Galih",
    "Gilang",
    "Dimas",
    "Eko",
    "Teguh",
    "Bambang",
    "Heri",
    "Irfan",
    "Ridwan",
    "Arief",
    "Yogi",
    "Aditya",
    "Taufik",
)
FEMALE_FIRST: tuple[str, ...] = (
    "Euis",
    "Neneng",
    "Imas",
    "Cucu",
    "Elis",
    "Iis",
    "Lilis",
    "Nining",
    "Rina",
    "Siti",
    "Dewi",
    "Yuyun",
    "Nurul",
    "Ratna",
    "Sri",
    "Tati",
    "Wulan",
    "Rini",
    "Nia",
    "Rika",
    "Intan",
    "Fitri",
    "Lia",
    "Mila",
    "Anisa",
    "Putri",
    "Ayu",
    "Desi",
    "Yanti",
    "Eneng",
    "Teti",
    "Nani",
    "Ani",
    "Nurhayati",
    "Kartika",
    "Sari",
    "Indah",
    "Maya",
    "Dian",
    "Resti",
)
LAST: tuple[str, ...] = (
    "Suryana",
    "Sutisna",
    "Hidayat",
    "Permana",
    "Saputra",
    "Kusnadi",
    "Rahayu",
    "Setiawan",
    "Gunawan",
    "Wijaya",
    "Kurniawan",
    "Hermawan",
    "Sudrajat",
    "Somantri",
    "Supriatna",
    "Rukmana",
    "Nugraha",
    "Firmansyah",
    "Maulana",
    "Ramdani",
    "Sopandi",
    "Komarudin",
    "Hernawan",
    "Mulyana",
    "Purnama",
    "Suhendar",
    "Kartika",
    "Wulandari",
    "Lestari",
    "Handayani",
    "Fauziah",
    "Rosita",
    "Nurjanah",
    "Sumarna",
    "Iskandar",
    "Abdullah",
    "Hakim",
    "Pratama",
    "Ardiansyah",
    "Kosasih",
)
TITLES: tuple[str, ...] = (
    "",
    "",
    "",
    "",
    ", S.E.",
    ", S.Kom.",
    ", S.H.",
    ", S.Sos.",
    ", M.Si.",
    ", S.T.",
)

#: Daily report phrases: verb + object [+ note].  41 and 37 are prime, so every
#: (verb, object) pair sequence stepped by a unit coprime with 41*37 is distinct.
REPORT_VERBS: tuple[str, ...] = (
    "Menyusun",
    "Mengoreksi",
    "Memverifikasi",
    "Menginput",
    "Merekap",
    "Menganalisis",
    "Mengarsipkan",
    "Menyiapkan",
    "Membahas",
    "Mengevaluasi",
    "Memfinalisasi",
    "Melaporkan",
    "Mengolah",
    "Menelaah",
    "Mengonsep",
    "Mendistribusikan",
    "Memantau",
    "Mendokumentasikan",
    "Mengkompilasi",
    "Menindaklanjuti",
    "Memutakhirkan",
    "Meninjau",
    "Mengkaji",
    "Merevisi",
    "Mencetak",
    "Mengirimkan",
    "Menerima dan mencatat",
    "Menyortir",
    "Mengumpulkan",
    "Menyelesaikan",
    "Melengkapi",
    "Mengecek",
    "Membuat draf",
    "Mempresentasikan",
    "Mengoordinasikan",
    "Mengunggah",
    "Mereviu",
    "Menata",
    "Mencocokkan",
    "Menghitung",
    "Memeriksa",
)
REPORT_OBJECTS: tuple[str, ...] = (
    "laporan kinerja bulanan",
    "data kepegawaian",
    "surat masuk dan keluar",
    "nota dinas",
    "telaahan staf",
    "rencana kerja anggaran",
    "laporan realisasi anggaran",
    "SPJ kegiatan",
    "notulen rapat koordinasi",
    "data aset",
    "usulan kenaikan pangkat",
    "dokumen pengadaan",
    "laporan monitoring",
    "bahan paparan pimpinan",
    "data SIMPEG",
    "capaian SKP",
    "data statistik sektoral",
    "draf peraturan gubernur",
    "laporan keuangan triwulan",
    "berkas perizinan",
    "data penerima bantuan",
    "jadwal kegiatan",
    "materi sosialisasi",
    "laporan hasil pemeriksaan",
    "konten media sosial dinas",
    "data inventaris barang",
    "dokumen RKPD",
    "rekap presensi pegawai",
    "usulan diklat",
    "laporan pengaduan masyarakat",
    "kajian kebijakan",
    "surat edaran",
    "dokumen kontrak",
    "indikator kinerja utama",
    "laporan tindak lanjut temuan",
    "data pajak kendaraan",
    "arsip digital",
)
REPORT_NOTES: tuple[str, ...] = (
    "",
    "",
    " untuk bidang program",
    " sesuai arahan kepala bidang",
    " tahun anggaran 2025",
    " dan menyampaikan ke atasan",
    " melalui aplikasi",
    " bersama tim",
    " (lanjutan)",
    " untuk rapat pimpinan",
    " sebagai bahan evaluasi akhir tahun",
)

#: Texts that are too short to count as a report (output.min_chars = 10).
SHORT_TEXTS: tuple[str, ...] = ("ok", "hadir", "WFH", "  -  ", "sda", "tugas")

#: A report text an employee copy-pastes day after day (DUPLICATE_OUTPUT).
COPY_PASTE_TEXTS: tuple[str, ...] = (
    "Melaksanakan tugas sesuai arahan pimpinan",
    "Mengerjakan tugas kantor dari rumah",
    "Menyelesaikan pekerjaan administrasi",
    "Melaksanakan tugas harian bidang",
)
